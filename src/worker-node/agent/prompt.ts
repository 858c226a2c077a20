/**
 * What the model reads: the job's context in the reference's order (persona, baseline, project, task, requirements
 * and acceptance criteria, preferences, additional context, suggested steps), then, rebuilt every turn, the time and
 * steps left and the todo list.
 */
import type { JobSpec, TodoItem } from "../../contracts/sba";

const NETWORK = {
  off: "no network",
  on: "no network but the task's allowed hosts, through the proxy in $HTTP_PROXY and $HTTPS_PROXY",
};
const intro = (spec: JobSpec) =>
  [
    `You are an agent working in a sandbox: a Linux container with busybox tools and ${spec.constraints?.ext_net_allowed ? NETWORK.on : NETWORK.off}.`,
    "Your working directory is /workspace; every path you use must stay under it. The task's attached files are there.",
    "Files you want to hand back go in $CYNODE_ARTIFACTS_DIR (/job/artifacts): run_command can write them there.",
    "Use the tools to do the task and check the result. When you are done, reply without any tool call:",
    "that reply is your final answer.",
  ].join("\n");

const section = (title: string, text?: string) => (text ? [`${title}:\n${text}`] : []);
const list = (title: string, items?: string[], prefix = "- ") =>
  items?.length ? [`${title}:\n${items.map((i) => `${prefix}${i}`).join("\n")}`] : [];

/** The job's own part of the system text. */
export function jobContext(spec: JobSpec): string {
  const c = spec.context ?? {};
  const persona = spec.persona?.description ?? c.persona_description;
  const prefs = Object.entries(c.preferences ?? {}).map(([k, v]) => `${k}: ${v}`);
  const steps = spec.steps?.map(
    (s, i) => `${i + 1}. ${s.type}${s.args === undefined ? "" : ` ${JSON.stringify(s.args)}`}`,
  );
  return [
    intro(spec),
    ...section("Persona", persona),
    ...section("Baseline", c.baseline_context),
    ...section("Project", c.project_context),
    ...section("Task", c.task_context),
    ...list("Requirements", c.requirements),
    ...list("Acceptance criteria", c.acceptance_criteria),
    ...list("Preferences", prefs),
    ...section("Additional context", c.additional_context),
    ...list("Suggested steps", steps, ""),
  ].join("\n\n");
}

/** The goal as the user's message: the task context (the prompt), else a pointer to the system text. */
export const goalOf = (spec: JobSpec) => spec.context?.task_context || "Do the task described in the system message.";

export function runtimeNote(o: { secondsLeft: number; stepsLeft: number; todo: TodoItem[] }): string {
  const todo = o.todo.length
    ? o.todo.map((t) => `- [${t.done ? "x" : " "}] ${t.id}. ${t.title}`).join("\n")
    : "(empty: add items with the todo tool)";
  return `Time left: ${Math.max(0, Math.floor(o.secondsLeft))} seconds. Steps left: ${o.stepsLeft}.\nTodo list:\n${todo}`;
}
