/**
 * Sends one Ollama chat request to the least loaded live node that has the model, over the node's bearer-protected
 * Worker API route. A node that cannot be reached is skipped for the next one; any later failure is final.
 */
import type { OllamaChatRequest } from "../../contracts/openai";
import { WORKER_API } from "../../contracts/routes";
import type { Logger } from "../../lib/log";
import type { InferenceNode } from "./live-nodes";

export type NodeChatOptions = {
  openToken: (sealed: string) => string;
  signal: AbortSignal;
  log: Logger;
  fetch?: typeof fetch;
};

export type NodeChatResult =
  | { kind: "answered"; node: InferenceNode; res: Response }
  | { kind: "unreachable"; error: string }
  | { kind: "aborted" };

export async function chatOnNode(
  candidates: InferenceNode[],
  body: OllamaChatRequest,
  opts: NodeChatOptions,
): Promise<NodeChatResult> {
  let error = "no candidate node";
  for (const node of candidates) {
    try {
      const route = WORKER_API.inferenceChat;
      const res = await (opts.fetch ?? fetch)(node.url.trim().replace(/\/+$/, "") + route.path(), {
        method: route.method,
        headers: { "content-type": "application/json", authorization: `Bearer ${opts.openToken(node.sealedToken)}` },
        body: JSON.stringify(body),
        signal: opts.signal,
        // The whole-request deadline is in `signal`; a model may think longer than Bun's idle timer before a byte.
        timeout: false,
      });
      return { kind: "answered", node, res };
    } catch (err) {
      if (opts.signal.aborted) return { kind: "aborted" };
      error = `${node.slug}: ${(err as Error).message}`;
      opts.log.warn("chat: node unreachable, trying the next one", { node_slug: node.slug, error });
    }
  }
  return { kind: "unreachable", error };
}
