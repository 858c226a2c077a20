/**
 * Which live nodes a chat may go to: those whose Ollama has the model, least loaded first (jobs running there plus
 * this gateway's chats in flight), the model list they make up together, and the model a chat naming none runs.
 */
import type { ModelList } from "../../contracts/openai";
import { createInFlightCounts } from "../chat/in-flight-counts";
import { liveInferenceNodes, resolveModel, servedModels, type InferenceNode } from "../chat/live-nodes";
import type { Db } from "../db/connect";
import { OpenAIApiError } from "./openai-errors";

/** Exactly the models live nodes serve, sorted; `created` is when a node last reported having it. */
export function modelList(nodes: InferenceNode[]): ModelList {
  const seen = new Map<string, number>();
  for (const n of nodes)
    for (const id of n.models) seen.set(id, Math.max(seen.get(id) ?? 0, Math.floor(n.reportedAt.getTime() / 1000)));
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
    models: async () => modelList(await live()),

    /**
     * The model a chat runs and its nodes, least loaded first. A request naming no model, or the default while no
     * live node serves it, gets `resolveModel`'s pick; 404 for any other model no live node serves; 503 when no
     * live node serves any model.
     */
    async candidatesFor(requested: string | undefined): Promise<{ model: string; nodes: InferenceNode[] }> {
      const nodes = await live();
      const served = servedModels(nodes);
      if (!served.size) throw new OpenAIApiError(503, "No live node runs inference", "cynodeai_no_inference_node");
      const model =
        requested === undefined || requested === opts.defaultModel
          ? resolveModel(nodes, opts.defaultModel)!
          : requested;
      if (!served.has(model))
        throw new OpenAIApiError(404, `The model '${model}' does not exist`, "model_not_found", "model");
      return { model, nodes: nodes.filter((n) => n.models.includes(model)).sort((a, b) => load(a) - load(b)) };
    },

    /** Counts a chat in flight on the node until the returned release is called (once). */
    hold: inFlight.hold,
  };
}
