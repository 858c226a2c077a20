/**
 * The OpenAI-compatible surface of the user gateway (`/v1/models`, `/v1/chat/completions`), shared by the gateway and
 * cynork, plus the Ollama `/api/chat` shapes the gateway speaks to a node's inference through the Worker API.
 * Request objects are loose: OpenAI clients send many fields we do not use, and unknown fields are ignored.
 */
import * as v from "valibot";

// ---- errors: `{error:{message,type,param,code}}`, never problem+json on these routes ----

export const OpenAIError = v.object({
  error: v.object({
    message: v.string(),
    type: v.string(),
    param: v.nullable(v.string()),
    code: v.nullable(v.string()),
  }),
});
export type OpenAIError = v.InferOutput<typeof OpenAIError>;

// ---- GET /v1/models ----

export const Model = v.object({
  id: v.string(),
  object: v.literal("model"),
  created: v.number(),
  owned_by: v.string(),
});
export const ModelList = v.object({ object: v.literal("list"), data: v.array(Model) });
export type Model = v.InferOutput<typeof Model>;
export type ModelList = v.InferOutput<typeof ModelList>;

// ---- POST /v1/chat/completions ----

/** A content part; only text parts carry anything we forward. */
const ContentPart = v.looseObject({ type: v.string(), text: v.optional(v.string()) });

export const ChatMessage = v.looseObject({
  role: v.picklist(["system", "user", "assistant", "tool", "developer"], "messages[].role is not supported"),
  content: v.optional(v.nullable(v.union([v.string(), v.array(ContentPart)])), null),
});

const StopParam = v.union([v.string(), v.array(v.string())]);
const NumberParam = v.optional(v.nullable(v.number()));

export const ChatCompletionRequest = v.looseObject({
  model: v.optional(v.nullable(v.string())),
  messages: v.pipe(v.array(ChatMessage, "messages must be an array"), v.minLength(1, "messages must not be empty")),
  stream: v.optional(v.nullable(v.boolean())),
  temperature: NumberParam,
  top_p: NumberParam,
  max_tokens: NumberParam,
  max_completion_tokens: NumberParam,
  seed: NumberParam,
  stop: v.optional(v.nullable(StopParam)),
});
export type ChatCompletionRequest = v.InferOutput<typeof ChatCompletionRequest>;

export const FINISH_REASONS = ["stop", "length"] as const;

/** The fields a completion and each of its chunks begin with. */
const completionHead = <O extends string>(object: O) => ({
  id: v.string(),
  object: v.literal(object),
  created: v.number(),
  model: v.string(),
});

export const ChatCompletion = v.object({
  ...completionHead("chat.completion"),
  choices: v.array(
    v.object({
      index: v.number(),
      message: v.object({ role: v.literal("assistant"), content: v.string() }),
      finish_reason: v.picklist(FINISH_REASONS),
    }),
  ),
  usage: v.object({ prompt_tokens: v.number(), completion_tokens: v.number(), total_tokens: v.number() }),
});
export type ChatCompletion = v.InferOutput<typeof ChatCompletion>;

export const ChatCompletionChunk = v.object({
  ...completionHead("chat.completion.chunk"),
  choices: v.array(
    v.object({
      index: v.number(),
      delta: v.object({ role: v.optional(v.literal("assistant")), content: v.optional(v.string()) }),
      finish_reason: v.nullable(v.picklist(FINISH_REASONS)),
    }),
  ),
});
export type ChatCompletionChunk = v.InferOutput<typeof ChatCompletionChunk>;

/** The last SSE event of a streamed completion. */
export const SSE_DONE = "[DONE]";

// ---- Ollama /api/chat, as forwarded by the Worker API's inference route ----

export const OllamaChatRequest = v.looseObject({
  model: v.pipe(v.string(), v.nonEmpty("model is required")),
  messages: v.array(v.looseObject({ role: v.string(), content: v.string() })),
  stream: v.boolean(),
  options: v.optional(v.record(v.string(), v.unknown())),
});
export type OllamaChatRequest = v.InferOutput<typeof OllamaChatRequest>;

/** One NDJSON line of a streamed answer, or the whole answer when not streamed; any field may be missing. */
export const OllamaChatResponse = v.partial(
  v.looseObject({
    model: v.string(),
    message: v.partial(v.looseObject({ role: v.string(), content: v.string() })),
    done: v.boolean(),
    done_reason: v.string(),
    prompt_eval_count: v.number(),
    eval_count: v.number(),
    error: v.string(),
  }),
);
export type OllamaChatResponse = v.InferOutput<typeof OllamaChatResponse>;
