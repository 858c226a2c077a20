/**
 * Which live nodes a chat may go to: those whose Ollama has the model, least loaded first (jobs running there plus
 * this gateway's chats in flight), and the model list they make up together.
 */
import type { ModelList } from "../../contracts/openai";
import { createInFlightCounts } from "../chat/in-flight-counts";
import { liveInferenceNodes, type InferenceNode } from "../chat/live-nodes";
import type { Db } from "../db/connect";
import { OpenAIApiError } from "./openai-errors";

/** Live nodes' models plus the default, sorted; `created` is when a node last reported having it. */
export function modelList(nodes: InferenceNode[], defaultModel: string, now: Date): ModelList {
  const seen = new Map<string, number>([[defaultModel, Math.floor(now.getTime() / 1000)]]);
  for (const n of nodes) for (const id of n.models) seen.set(id, Math.floor(n.reportedAt.getTime() / 1000));
  return {
    object: "list",
    data: [...seen]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, created]) => ({ id, object: "model" as const, created, owned_by: "cynodeai" })),
  };
}

export type ChatNodes = ReturnType<typeof createChatNodes>;

export function createChatNodes(opts: { db: Db; now: () => Date; defaultModel: string; maxReportAgeMs?: number }) {
  const inFlight = createInFlightCounts();
  const load = (n: InferenceNode) => n.runningJobs + inFlight.count(n.id);
  const live = () => liveInferenceNodes(opts.db, { now: opts.now(), maxReportAgeMs: opts.maxReportAgeMs });
  return {
    models: async () => modelList(await live(), opts.defaultModel, opts.now()),

    /** The nodes for `model`, least loaded first; 404 for a model no one offers, 503 when no node can serve. */
    async candidatesFor(model: string): Promise<InferenceNode[]> {
      const nodes = await live();
      if (!nodes.length) throw new OpenAIApiError(503, "No live node runs inference", "cynodeai_no_inference_node");
      if (!modelList(nodes, opts.defaultModel, opts.now()).data.some((m) => m.id === model))
        throw new OpenAIApiError(404, `The model '${model}' does not exist`, "model_not_found", "model");
      const having = nodes.filter((n) => n.models.includes(model)).sort((a, b) => load(a) - load(b));
      if (!having.length)
        throw new OpenAIApiError(503, `No live node has the model '${model}'`, "cynodeai_no_inference_node");
      return having;
    },

    /** Counts a chat in flight on the node until the returned release is called (once). */
    hold: inFlight.hold,
  };
}
