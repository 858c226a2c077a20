/**
 * Two worker nodes started together on one host, ROUNDS times (default 10) against one orchestrator: each round
 * counts when both reach "node ready". Exits 1 unless every round does (issue 23: a start-up clean-up race killed
 * one node in a full BDD run). `bun .ci/two-nodes-start.ts [rounds]`; from source, or dist/bin with
 * CYNODE_BDD_BINARIES=1.
 */
import { startOrchestrator } from "../bdd/support/orchestrator-process";
import { startWorkerNode } from "../bdd/support/worker-node-process";
import { startOllamaTestServer } from "../src/testing/ollama-test-server";

const rounds = Number(process.argv[2] ?? 10);
const orchestrator = await startOrchestrator();
// The Ollama-API-compatible TEST DOUBLE: the nodes only need an upstream that answers.
const upstream = await startOllamaTestServer({ port: 0, models: ["qwen3.5:0.8b"] });
let good = 0;
try {
  for (let round = 1; round <= rounds; round++) {
    const started = await Promise.allSettled(
      ["a", "b"].map((n) =>
        startWorkerNode({
          orchestratorUrl: orchestrator.controlPlaneUrl,
          slug: `two-nodes-${round}-${n}`,
          env: { OLLAMA_UPSTREAM_URL: upstream.url! },
        }),
      ),
    );
    const failed = started.filter((s) => s.status === "rejected").map((s) => String(s.reason));
    if (failed.length === 0) good++;
    console.log(`round ${round}: ${failed.length === 0 ? "both ready" : `FAILED: ${failed.join(" | ")}`}`);
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
  }
} finally {
  await upstream.stop();
  await orchestrator.stop();
}
console.log(`two nodes together: ${good}/${rounds}`);
process.exit(good === rounds ? 0 : 1);
