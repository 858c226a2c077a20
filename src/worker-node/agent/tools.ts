/**
 * The agent's tools: their JSON-schema definitions for Ollama's `tools`, their arguments checked by one valibot schema
 * each, and their execution — the sandbox tools through the job's tool channel, `todo` on the loop's own list.
 */
import * as v from "valibot";
import type { TodoItem } from "../../contracts/sba";
import type { ToolChannel } from "./tool-channel";
import {
  applyDiffScript,
  readFileScript,
  runCommandScript,
  listTreeScript,
  searchFilesScript,
  ToolError,
  writeFileScript,
} from "./tool-scripts";

const Str = v.string();
const Line = v.pipe(v.number(), v.integer(), v.minValue(1));
const ARGS = {
  run_command: v.strictObject({
    argv: v.pipe(v.array(Str), v.minLength(1, "argv must not be empty")),
    cwd: v.optional(Str),
  }),
  read_file: v.strictObject({ path: Str, start_line: v.optional(Line), end_line: v.optional(Line) }),
  write_file: v.strictObject({ path: Str, content: Str }),
  apply_unified_diff: v.strictObject({ diff: Str }),
  list_tree: v.strictObject({ path: v.optional(Str) }),
  search_files: v.strictObject({
    pattern: v.pipe(Str, v.minLength(1)),
    path: v.optional(Str),
    include: v.optional(Str),
  }),
  todo: v.strictObject({
    action: v.picklist(["add", "update", "complete"]),
    id: v.optional(v.pipe(v.number(), v.integer())),
    title: v.optional(Str),
    done: v.optional(v.boolean()),
  }),
};
export type ToolName = keyof typeof ARGS;
/** A checked call: its tool and that tool's arguments. */
export type CheckedCall = { [K in ToolName]: { name: K; args: v.InferOutput<(typeof ARGS)[K]> } }[ToolName];
export const TOOL_NAMES = Object.keys(ARGS) as ToolName[];

type Prop = { type: string; description: string; items?: { type: string }; enum?: string[] };
const fn = (name: ToolName, description: string, properties: Record<string, Prop>, required: string[]) => ({
  type: "function",
  function: { name, description, parameters: { type: "object", properties, required } },
});
const s = (description: string): Prop => ({ type: "string", description });
const n = (description: string): Prop => ({ type: "integer", description });

/** What the model is offered (Ollama `tools`). */
export const TOOL_DEFINITIONS = [
  fn(
    "run_command",
    'Run a program in the sandbox (no shell: argv as is; use ["sh","-c","..."] for one); stdout and stderr combined',
    {
      argv: { type: "array", items: { type: "string" }, description: "program and arguments" },
      cwd: s("directory relative to /workspace"),
    },
    ["argv"],
  ),
  fn(
    "read_file",
    "Read a file under /workspace (optionally lines start_line..end_line, 1-based)",
    { path: s("file path"), start_line: n("first line"), end_line: n("last line") },
    ["path"],
  ),
  fn(
    "write_file",
    "Create or replace a file under /workspace (parent directories are created)",
    { path: s("file path"), content: s("the whole new content") },
    ["path", "content"],
  ),
  fn(
    "apply_unified_diff",
    "Apply a unified diff (paths relative to /workspace, a/ b/ prefixes allowed) with patch -p1",
    { diff: s("the unified diff") },
    ["diff"],
  ),
  fn(
    "list_tree",
    "List files under a directory of /workspace, recursively (directories end with /)",
    { path: s("directory, default /workspace") },
    [],
  ),
  fn(
    "search_files",
    "Search files under /workspace for an extended regular expression: path:line:content per match",
    {
      pattern: s("regular expression"),
      path: s("directory, default /workspace"),
      include: s("file name glob, e.g. *.ts"),
    },
    ["pattern"],
  ),
  fn(
    "todo",
    "Keep your todo list: add {title}, update {id, title?, done?}, complete {id}",
    {
      action: { type: "string", enum: ["add", "update", "complete"], description: "what to do" },
      id: n("item id"),
      title: s("item title"),
      done: { type: "boolean", description: "done or not" },
    },
    ["action"],
  ),
];

export type ToolCall = { name: string; arguments: unknown };
export type ToolOutcome = { exitCode: number; output: string; truncated: boolean; error?: string };

/** The call's arguments: an object, or a JSON string holding one. */
function argumentsOf(call: ToolCall): unknown {
  if (typeof call.arguments !== "string") return call.arguments ?? {};
  try {
    return JSON.parse(call.arguments);
  } catch (e) {
    throw new ToolError(`invalid JSON arguments: ${(e as Error).message}`);
  }
}

/** The call's tool and its checked arguments, or a ToolError saying what is wrong. */
export function parseCall(call: ToolCall) {
  if (!(call.name in ARGS)) throw new ToolError(`unknown tool: ${call.name} (tools: ${TOOL_NAMES.join(", ")})`);
  const name = call.name as ToolName;
  const parsed = v.safeParse(ARGS[name], argumentsOf(call));
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const at = issue.path?.map((p) => p.key).join(".");
    throw new ToolError(`bad arguments for ${name}: ${at ? `${at}: ` : ""}${issue.message}`);
  }
  return { name, args: parsed.output } as CheckedCall;
}

/** The sandbox request for a call (one script; content and diffs as files, never in argv). */
function request(c: Exclude<CheckedCall, { name: "todo" }>, cap: number) {
  switch (c.name) {
    case "run_command":
      return { script: runCommandScript(c.args.argv, c.args.cwd), cap };
    case "read_file":
      return { script: readFileScript(c.args.path, c.args.start_line, c.args.end_line), cap };
    case "write_file":
      return { script: writeFileScript(c.args.path), files: { c: c.args.content }, cap };
    case "apply_unified_diff":
      return { script: applyDiffScript(c.args.diff), files: { c: c.args.diff }, cap };
    case "list_tree":
      return { script: listTreeScript(c.args.path), cap };
    case "search_files":
      return { script: searchFilesScript(c.args.pattern, c.args.path, c.args.include), cap };
  }
}

export function createTodoList() {
  const items: TodoItem[] = [];
  const find = (id: number | undefined) => {
    const item = items.find((i) => i.id === id);
    if (!item) throw new ToolError(`no todo item ${id ?? "(id missing)"}`);
    return item;
  };
  return {
    items,
    apply(a: { action: "add" | "update" | "complete"; id?: number; title?: string; done?: boolean }): string {
      if (a.action === "add") {
        if (!a.title) throw new ToolError("todo add needs a title");
        items.push({ id: items.length + 1, title: a.title, done: false });
        return `added ${items.length}: ${a.title}`;
      }
      const item = find(a.id);
      if (a.action === "complete") item.done = true;
      else Object.assign(item, a.title ? { title: a.title } : {}, a.done !== undefined ? { done: a.done } : {});
      return `${a.action === "complete" ? "completed" : "updated"} ${item.id}: ${item.title}`;
    },
  };
}
export type TodoList = ReturnType<typeof createTodoList>;

/** Runs one call: a tool error (bad call, refused path) is an outcome, never a throw. */
export async function executeTool(
  call: ToolCall,
  x: { channel: ToolChannel; todo: TodoList; cap: number },
): Promise<ToolOutcome> {
  try {
    const checked = parseCall(call);
    if (checked.name === "todo") return { exitCode: 0, output: x.todo.apply(checked.args), truncated: false };
    return await x.channel.call(request(checked, x.cap));
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { exitCode: -1, output: "", truncated: false, error: err.message };
  }
}
