/**
 * The chat agent's tools (decision 26): each one is a gateway operation run as the chatting user through the very
 * functions the gateway's routes call (TASK_OPERATIONS, the skills store, the model list), so every check is the
 * gateway's own: another user's task is refused exactly as `GET /v1/tasks/{id}` refuses it.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { TOOL_ARGUMENTS } from "../../contracts/chat-agent";
import { jobOutput } from "../../contracts/job-result";
import type { ModelList } from "../../contracts/openai";
import { CreateTaskRequest } from "../../contracts/user-api";
import { visibleSkillNamed, visibleSkills } from "../db/skills";
import type { AuthedUser } from "../gateway/require-user";
import { TASK_OPERATIONS, type TaskDeps } from "../gateway/tasks";
import { skillMeta } from "../skills/skill-view";

/** What a tool acts as and with. */
export type ToolContext = {
  tasks: TaskDeps;
  user: AuthedUser;
  /** The chat's project (`OpenAI-Project`): the tasks the agent creates belong to it. */
  projectId: string | null;
  models: () => Promise<ModelList>;
  signal: AbortSignal;
};

/** `task_result` waits at most this long per call, as the gateway's long-poll. */
const MAX_WAIT_SECONDS = 60;

const TaskCreate = v.pick(CreateTaskRequest, ["prompt", "input_mode", "task_name", "use_inference", "use_sba"]);

type Tool = { description: string; args: v.GenericSchema; run: (c: ToolContext, a: unknown) => Promise<unknown> };

/** A tool whose `run` gets its arguments as `args` parsed them. */
function tool<S extends v.GenericSchema>(
  args: S,
  description: string,
  run: (c: ToolContext, a: v.InferOutput<S>) => Promise<unknown>,
): Tool {
  return { description, args, run: run as Tool["run"] };
}
const op = TASK_OPERATIONS;

/** A task's result with each job's stdout and stderr read out of its result, for the model to quote. */
async function resultWithOutput(c: ToolContext, a: v.InferOutput<typeof TOOL_ARGUMENTS.task_result>) {
  const wait = Math.min(a.wait_seconds ?? 0, MAX_WAIT_SECONDS) * 1000;
  const r = await op.result(c.tasks, c.user.id, a.task_id, wait, c.signal);
  return { ...r, jobs: r.jobs.map(({ result, ...job }) => ({ ...job, ...jobOutput(result) })) };
}

export const TOOLS: Record<string, Tool> = {
  task_create: tool(
    TaskCreate,
    "Create a task: input_mode 'commands' runs the prompt as a shell command in a sandbox",
    (c, a) => op.create(c.tasks, c.user, { ...a, ...(c.projectId ? { project_id: c.projectId } : {}) }),
  ),
  task_get: tool(TOOL_ARGUMENTS.task_get, "A task's status", (c, a) => op.get(c.tasks, c.user.id, a.task_id)),
  task_result: tool(
    TOOL_ARGUMENTS.task_result,
    "A task's status and its jobs' output; wait_seconds waits (up to 60) for the task to end",
    resultWithOutput,
  ),
  task_list: tool(TOOL_ARGUMENTS.task_list, "The user's tasks, newest first", (c, a) =>
    op.list(c.tasks, c.user.id, { status: a.status, limit: a.limit?.toString() }),
  ),
  task_cancel: tool(TOOL_ARGUMENTS.task_cancel, "Cancel a task", (c, a) => op.cancel(c.tasks, c.user.id, a.task_id)),
  task_logs: tool(TOOL_ARGUMENTS.task_logs, "A task's stdout and stderr so far", (c, a) =>
    op.logs(c.tasks, c.user.id, a.task_id, "all"),
  ),
  artifacts_list: tool(
    TOOL_ARGUMENTS.artifacts_list,
    "The files a task's jobs left",
    // NOT YET STORED: artifacts are not kept by this orchestrator yet; the task is checked, the list is empty.
    async (c, a) => {
      const task = await op.get(c.tasks, c.user.id, a.task_id);
      return { task_id: task.id, artifacts: [], note: "artifacts are not stored yet" };
    },
  ),
  models_list: tool(TOOL_ARGUMENTS.models_list, "The models chats can use", (c) => c.models()),
  skills_list: tool(TOOL_ARGUMENTS.skills_list, "The skills the user can use", async (c) => ({
    skills: (await visibleSkills(c.tasks.db, c.user.id)).map(skillMeta),
  })),
  skills_get: tool(TOOL_ARGUMENTS.skills_get, "A skill's content, by name", async (c, a) => {
    const skill = await visibleSkillNamed(c.tasks.db, c.user.id, a.name);
    return skill ? { ...skillMeta(skill), content: skill.content } : { error: "skill not found" };
  }),
};

/** The tools as Ollama's `tools` field declares them. */
export const TOOL_DECLARATIONS = Object.entries(TOOLS).map(([name, t]) => ({
  type: "function",
  function: { name, description: t.description, parameters: toJsonSchema(t.args, { errorMode: "ignore" }) },
}));

/** Thrown for a call the agent cannot run as asked (unknown tool, bad arguments): the model is told why. */
export class ToolRefusal extends Error {}

/** Runs one call; arguments may come as an object or as JSON text. */
export async function runTool(c: ToolContext, name: string, raw: unknown): Promise<unknown> {
  const tool = TOOLS[name];
  if (!tool) throw new ToolRefusal(`unknown tool ${name}`);
  let args = raw;
  if (typeof raw === "string") args = raw.trim() ? parseJson(raw) : {};
  const parsed = v.safeParse(tool.args, args ?? {});
  if (!parsed.success) throw new ToolRefusal(`invalid arguments: ${parsed.issues[0].message}`);
  return tool.run(c, parsed.output);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ToolRefusal("arguments are not JSON");
  }
}
