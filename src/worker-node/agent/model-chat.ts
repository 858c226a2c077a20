/**
 * The loop's way to the model: Ollama's `/api/chat` (native tool calling, `stream: false`) through the node's inference
 * relay socket, the one the Worker API's chat route uses; and the choice of model, the first the job allows that the
 * node serves (a model the job does not allow is never asked).
 */
export type ChatMessage = {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tool_calls?: { function: { name: string; arguments: unknown } }[];
  tool_name?: string;
};
export type ChatReply = {
  message: { content: string; tool_calls: { name: string; arguments: unknown }[] };
  promptTokens: number;
  completionTokens: number;
};
export type ModelChat = {
  models(signal?: AbortSignal): Promise<string[]>;
  chat(body: { model: string; messages: ChatMessage[]; tools: unknown[] }, signal?: AbortSignal): Promise<ChatReply>;
};

/** How long one model turn may take (as the inference proxy's per-request limit). */
export const MODEL_TURN_TIMEOUT_MS = 120_000;

const base = (name: string) => (name.includes(":") ? name : `${name}:latest`);

/** The first allowed model the node serves (`name` and `name:latest` are one model), or undefined. */
export const chooseModel = (allowed: string[], served: string[]) =>
  allowed.find((m) => served.some((s) => base(s) === base(m)));

type RawReply = {
  message?: { content?: string; tool_calls?: { function?: { name?: string; arguments?: unknown } }[] };
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
};

export function relayChat(socket: () => string | undefined, timeoutMs = MODEL_TURN_TIMEOUT_MS): ModelChat {
  async function call(path: string, init: RequestInit, signal?: AbortSignal): Promise<unknown> {
    const unix = socket();
    if (!unix) throw new Error("inference is not running on this node");
    const any = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    const res = await fetch(`http://ollama${path}`, { ...init, unix, signal: AbortSignal.any(any), timeout: false });
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new Error(`inference answered ${res.status}${body.error ? `: ${body.error}` : ""}`);
    return body;
  }
  return {
    async models(signal) {
      const tags = (await call("/api/tags", {}, signal)) as { models?: { name?: string }[] };
      return (tags.models ?? []).flatMap((m) => (m.name ? [m.name] : []));
    },
    async chat(body, signal) {
      const init = {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, stream: false }),
      };
      const raw = (await call("/api/chat", init, signal)) as RawReply;
      const calls = raw.message?.tool_calls ?? [];
      return {
        message: {
          content: raw.message?.content ?? "",
          tool_calls: calls.map((c) => ({ name: c.function?.name ?? "", arguments: c.function?.arguments })),
        },
        promptTokens: raw.prompt_eval_count ?? 0,
        completionTokens: raw.eval_count ?? 0,
      };
    },
  };
}
