/** The system under test, started once per feature: orchestrator, worker node, inference upstream. */
import { CHAT_AGENT_SCRIPTS } from "../../src/testing/chat-agent-scripts";
import { startOllamaTestServer, type RecordedRequest } from "../../src/testing/ollama-test-server";
import { AGENT_SCRIPT_OPTIONS } from "./agent-scripts";
import { startOrchestrator, type OrchestratorProcess } from "./orchestrator-process";
import { startWorkerNode, type WorkerNode } from "./worker-node-process";
import { featureScope, type CyWorld } from "./world";

export async function runningOrchestrator(w: CyWorld): Promise<OrchestratorProcess> {
  w.orchestrator = await featureScope.shared("orchestrator", async () => {
    const o = await startOrchestrator();
    return { value: o, stop: o.stop };
  });
  return w.orchestrator;
}

/** Model the orchestrator names in prompt jobs; a real Ollama must have it pulled. */
export const inferenceModel = () => process.env.INFERENCE_MODEL || "qwen3.5:0.8b";

/**
 * The node's inference upstream: a real Ollama when OLLAMA_UPSTREAM_URL names one, else the Ollama-API-compatible
 * TEST DOUBLE, whose replies are `echo: <prompt>` (or, for the agent feature's goal, a scripted tool-calling chat).
 */
export type InferenceUpstream = {
  url: string;
  fake: boolean /** What reached the double (not a real Ollama). */;
  requests?: RecordedRequest[];
};

export function inferenceUpstream(): Promise<InferenceUpstream> {
  return featureScope.shared<InferenceUpstream>("ollama", async () => {
    if (process.env.OLLAMA_UPSTREAM_URL)
      return { value: { url: process.env.OLLAMA_UPSTREAM_URL, fake: false }, stop: async () => {} };
    // On all interfaces: a worker may reach its upstream from a container, not only from the host.
    const double = await startOllamaTestServer({
      port: 0,
      hostname: "0.0.0.0",
      models: [inferenceModel()],
      // The agent feature's scripted tool-calling conversation.
      ...AGENT_SCRIPT_OPTIONS,
      // The chat agent feature's scripted model (cynodeai.pm).
      chatAgentScripts: CHAT_AGENT_SCRIPTS,
    });
    const url = double.url!.replace("0.0.0.0", "127.0.0.1");
    return { value: { url, fake: true, requests: double.requests }, stop: double.stop };
  });
}

/** Every node the suite starts has an inference upstream, as a node on a real machine with Ollama would. */
export async function startNodeWithInference(
  orchestrator: OrchestratorProcess,
  slug: string,
  opts: { warmPool?: number } = {},
): Promise<WorkerNode> {
  return startWorkerNode({
    orchestratorUrl: orchestrator.controlPlaneUrl,
    slug,
    env: { OLLAMA_UPSTREAM_URL: (await inferenceUpstream()).url },
    ...opts,
  });
}

export async function runningWorkerNode(
  w: CyWorld,
  slug: string,
  opts: { warmPool?: number } = {},
): Promise<WorkerNode> {
  const orchestrator = await runningOrchestrator(w);
  w.workerNode = await featureScope.shared(`node:${slug}`, async () => {
    const node = await startNodeWithInference(orchestrator, slug, opts);
    return { value: node, stop: node.stop };
  });
  return w.workerNode;
}
