/**
 * The chat agent in `/v1/models` (reference-agents 2.1): `cynodeai.pm` first, then the models live nodes serve;
 * not listed while no live node serves a model (it would have none to think with).
 */
import { PM_MODEL } from "../../contracts/chat-agent";
import type { ModelList } from "../../contracts/openai";

export function withAgentModel(list: ModelList): ModelList {
  if (!list.data.length) return list;
  const created = Math.max(0, ...list.data.map((m) => m.created));
  return { ...list, data: [{ id: PM_MODEL, object: "model", created, owned_by: "cynodeai" }, ...list.data] };
}
