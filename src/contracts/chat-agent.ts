/**
 * The chat agent's wire shapes (decision 26, reference-agents 2.5): chat threads, their messages and the agent's
 * tool-call records. Errors on these routes are OpenAI's error objects, as on the other chat routes.
 */
import * as v from "valibot";

/** The model id of the chat agent (reference-agents 2.1). */
export const PM_MODEL = "cynodeai.pm";
/** The header naming the project a chat and the tasks its agent creates belong to. */
export const PROJECT_HEADER = "openai-project";
/** The header naming the thread a completion continues (else the user's active thread of the project). */
export const THREAD_HEADER = "x-cynode-thread-id";

export const CreateThreadRequest = v.looseObject({
  project_id: v.optional(v.nullable(v.string())),
  title: v.optional(v.nullable(v.string())),
});
export type CreateThreadRequest = v.InferOutput<typeof CreateThreadRequest>;

export const Thread = v.object({
  id: v.string(),
  thread_id: v.string(),
  title: v.optional(v.string()),
  project_id: v.optional(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
});
export type Thread = v.InferOutput<typeof Thread>;

export const ThreadList = v.object({ data: v.array(Thread) });
export type ThreadList = v.InferOutput<typeof ThreadList>;

export const PageQuery = v.object({ limit: v.optional(v.string()), offset: v.optional(v.string()) });

export const ThreadMessage = v.object({
  id: v.string(),
  role: v.string(),
  content: v.string(),
  metadata: v.nullable(v.unknown()),
  created_at: v.string(),
});
export const ThreadMessages = v.object({
  data: v.array(ThreadMessage),
  total_count: v.number(),
  next_offset: v.optional(v.number()),
});
export type ThreadMessages = v.InferOutput<typeof ThreadMessages>;

/** One tool call of the chat agent as its user lists it: arguments capped, no result. */
export const ToolCallRecord = v.object({
  id: v.string(),
  thread_id: v.nullable(v.string()),
  tool: v.string(),
  arguments: v.string(),
  outcome: v.picklist(["ok", "error"]),
  error: v.optional(v.string()),
  duration_ms: v.number(),
  created_at: v.string(),
});
export type ToolCallRecord = v.InferOutput<typeof ToolCallRecord>;
export const ToolCallList = v.object({ data: v.array(ToolCallRecord) });
export type ToolCallList = v.InferOutput<typeof ToolCallList>;

// ---- the agent's tools: Ollama native tool calling, arguments as the model sends them ----

/** A tool call in an Ollama chat answer (`message.tool_calls[]`). */
export const OllamaToolCall = v.object({
  function: v.object({
    name: v.string(),
    arguments: v.optional(v.union([v.record(v.string(), v.unknown()), v.string()]), {}),
  }),
});
export type OllamaToolCall = v.InferOutput<typeof OllamaToolCall>;
export const OllamaToolCalls = v.optional(v.array(OllamaToolCall), []);

const TaskId = v.object({ task_id: v.pipe(v.string("task_id is required"), v.nonEmpty("task_id is required")) });
const Count = v.pipe(v.number(), v.minValue(0), v.maxValue(200));

/** Each tool's arguments; `task_create` takes the task fields of `POST /v1/tasks`. */
export const TOOL_ARGUMENTS = {
  task_get: TaskId,
  task_result: v.object({ ...TaskId.entries, wait_seconds: v.optional(v.pipe(v.number(), v.minValue(0))) }),
  task_list: v.object({ status: v.optional(v.string()), limit: v.optional(Count) }),
  task_cancel: TaskId,
  task_logs: TaskId,
  artifacts_list: TaskId,
  models_list: v.object({}),
  skills_list: v.object({}),
  skills_get: v.object({ name: v.pipe(v.string("name is required"), v.nonEmpty("name is required")) }),
};
