/** cynork entrypoint (placeholder until issue 6 lands). */
import { defineCommand, runMain } from "citty";
import { VERSION } from "../lib/version";

const main = defineCommand({
  meta: { name: "cynork", version: VERSION, description: "cynork: command-line client for the CyNodeAI user gateway. Not built yet (issue 6)." },
  run() {
    console.error("cynork: not built yet (issue 6)");
    process.exitCode = 1;
  },
});

await runMain(main);
