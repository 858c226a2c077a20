/** worker-node entrypoint (placeholder until issue 4 lands). */
import { defineCommand, runMain } from "citty";
import { VERSION } from "../lib/version";

const main = defineCommand({
  meta: { name: "worker-node", version: VERSION, description: "Worker node: node manager, worker API and podman sandbox runner. Not built yet (issue 4)." },
  run() {
    console.error("worker-node: not built yet (issue 4)");
    process.exitCode = 1;
  },
});

await runMain(main);
