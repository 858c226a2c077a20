/** OpenAI chat completions ⇄ Ollama `/api/chat`: the request going to a node, and the answers coming back. */
import * as v from "valibot";
import {
  OllamaChatResponse,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type OllamaChatRequest,
} from "../../contracts/openai";

type Message = ChatCompletionRequest["messages"][number];

/** Text of a message: a string, or the text parts of a content array joined (images and the like are dropped). */
export function messageText(content: Message["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
}

/**
 * The tokens a completion may generate: the request's `max_completion_tokens` or `max_tokens`, clamped to 1…`cap`
 * (whole); `cap` itself when it names none, since Ollama's own default is no limit (and so is a negative value).
 */
export function clampMaxTokens(requested: number | null | undefined, cap: number): number {
  if (requested == null || !Number.isFinite(requested)) return cap;
  return Math.min(cap, Math.max(1, Math.floor(requested)));
}

export function toOllamaChat(
  req: ChatCompletionRequest,
  model: string,
  stream: boolean,
  maxTokens: number,
): OllamaChatRequest {
  const options: Record<string, unknown> = {};
  if (req.temperature != null) options.temperature = req.temperature;
  if (req.top_p != null) options.top_p = req.top_p;
  options.num_predict = clampMaxTokens(req.max_completion_tokens ?? req.max_tokens, maxTokens);
  if (req.seed != null) options.seed = req.seed;
  if (req.stop != null) options.stop = [req.stop].flat();
  return {
    model,
    messages: req.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      content: messageText(m.content),
    })),
    stream,
    options,
  };
}

export type CompletionMeta = { id: string; created: number; model: string };

const finishReason = (r: OllamaChatResponse) => (r.done_reason === "length" ? "length" : "stop");

export function toCompletion(r: OllamaChatResponse, meta: CompletionMeta): ChatCompletion {
  const prompt = r.prompt_eval_count ?? 0;
  const completion = r.eval_count ?? 0;
  return {
    ...meta,
    object: "chat.completion",
    choices: [
      { index: 0, message: { role: "assistant", content: r.message?.content ?? "" }, finish_reason: finishReason(r) },
    ],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

export function toChunk(
  meta: CompletionMeta,
  delta: ChatCompletionChunk["choices"][number]["delta"],
  done?: OllamaChatResponse,
): ChatCompletionChunk {
  return {
    ...meta,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: done ? finishReason(done) : null }],
  };
}

/** Parses Ollama's NDJSON stream line by line; a line that is not an answer object ends it with an error. */
export async function* ndjsonAnswers(body: ReadableStream<Uint8Array>): AsyncGenerator<OllamaChatResponse> {
  const decoder = new TextDecoder();
  let buffered = "";
  const parse = (line: string) => {
    const parsed = v.safeParse(OllamaChatResponse, JSON.parse(line));
    if (!parsed.success) throw new Error("inference answered a line that is not a chat answer");
    return parsed.output;
  };
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield parse(line);
      nl = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield parse(buffered.trim());
}
