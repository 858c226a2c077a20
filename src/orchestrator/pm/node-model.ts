/**
 * The chat agent's model: an allowed model of a live node (the default model's pick, as a chat naming none), asked
 * through the node's Worker API inference route as every chat is, one whole answer per turn with the tools declared.
 */
import * as v from "valibot";
import { OllamaToolCalls } from "../../contracts/chat-agent";
import { chatOnNode } from "../chat/node-chat";
import { failure, nodeRefusal, readAnswer, signalError, type ChatContext } from "../gateway/chat-completion";
import { DEFAULT_CHAT_MAX_TOKENS } from "../gateway/chat-completion";
import type { AgentAnswer, AgentMessage } from "./agent-loop";
import { TOOL_DECLARATIONS } from "./tools";

export type NodeModel = { model: string; ask: (messages: AgentMessage[]) => Promise<AgentAnswer> };

export async function nodeModel(d: ChatContext, signal: AbortSignal, deadline: AbortSignal): Promise<NodeModel> {
  const { model, nodes } = await d.nodes.candidatesFor(undefined);
  const options = { num_predict: d.chat.maxTokens ?? DEFAULT_CHAT_MAX_TOKENS };
  const ask = async (messages: AgentMessage[]): Promise<AgentAnswer> => {
    const body = { model, messages, stream: false, tools: TOOL_DECLARATIONS, options };
    const sent = await chatOnNode(nodes, body, {
      openToken: d.chat.openToken,
      signal: AbortSignal.any([signal, deadline]),
      log: d.log,
      fetch: d.chat.fetch,
    });
    if (sent.kind !== "answered") throw failure(sent.kind === "aborted" ? signalError(deadline) : sent.error);
    const release = d.nodes.hold(sent.node.id);
    try {
      if (!sent.res.ok) throw await nodeRefusal(sent.res, model);
      const answer = await readAnswer(sent.res, deadline);
      const calls = v.safeParse(OllamaToolCalls, answer.message?.tool_calls);
      return { content: answer.message?.content ?? "", toolCalls: calls.success ? calls.output : [] };
    } finally {
      release();
    }
  };
  return { model, ask };
}
