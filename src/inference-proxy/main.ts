/** inference-proxy entrypoint (placeholder until issue 5 lands). */
import { defineCommand, runMain } from "citty";
import { VERSION } from "../lib/version";

const main = defineCommand({
  meta: { name: "inference-proxy", version: VERSION, description: "Inference proxy sidecar: forwards a sandbox's Ollama API calls to the node's inference service. Not built yet (issue 5)." },
  run() {
    console.error("inference-proxy: not built yet (issue 5)");
    process.exitCode = 1;
  },
});

await runMain(main);
