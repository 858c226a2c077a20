/**
 * `cynork task create`: one input mode → POST /v1/tasks; `--result` then waits and prints the result. The inputs
 * (reference-contracts 7.4): exactly one input mode, local files checked (regular, readable, within size) before any
 * request, attachments ≤ 16 files of ≤ 10 MiB uploaded with the task (multipart/form-data; their paths stay the
 * task's `attachments`, as the reference's), each placed in the job's /workspace under its base name.
 */
import { lstat, readFile } from "node:fs/promises";
import type { ArgsDef } from "citty";
import { type CreateTaskRequest, INPUT_MODES, type InputMode } from "../../../contracts/user-api";
import { FILE_LIMITS } from "../../../contracts/task-files";
import { defineCynorkCommand } from "../../command";
import { usageError } from "../../errors";
import type { ParsedFlags } from "../../flags";
import { RESULT_LINE, resultValue } from "../../render";
import { resultPollDelay, waitForTask } from "../../wait-for-task";

const KiB = 1024;
const MiB = 1024 * KiB;
export const INPUT_LIMITS = {
  taskFile: MiB,
  script: 256 * KiB,
  commandsFile: 64 * KiB,
  attachment: FILE_LIMITS.maxAttachmentBytes,
  attachments: FILE_LIMITS.maxAttachments,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const args = {
  prompt: { type: "string", alias: "p", description: "task text (input mode prompt)" },
  task: { type: "string", alias: "t", description: "task text, same as --prompt" },
  "task-file": { type: "string", alias: "f", description: "file with the task text (≤ 1 MiB)" },
  script: { type: "string", alias: "s", description: "shell script file to run (≤ 256 KiB)" },
  command: { type: "string", description: "shell command to run; repeatable, run in order" },
  "commands-file": { type: "string", description: "file with one command per line (≤ 64 KiB)" },
  name: { type: "string", alias: "task-name", description: "task name" },
  "project-id": { type: "string", description: "project UUID (default: your default project)" },
  attach: {
    type: "string",
    alias: ["a", "attachment"],
    description: "upload a file into the job's /workspace; repeatable, ≤ 16 files of ≤ 10 MiB",
  },
  "use-inference": { type: "boolean", description: "give a script/commands job access to the model" },
  "use-sba": {
    type: "boolean",
    description: "run an agent: -p/-t/-f is its goal; it works in a sandbox with tools and answers (see README)",
  },
  skill: { type: "string", description: "give an agent task (--use-sba) this skill, by name or id; repeatable" },
  "allow-host": {
    type: "string",
    description:
      "let the job reach host[:port] (or *.domain) through its HTTP(S) proxy, within the operator's EGRESS_ALLOWED_HOSTS; repeatable",
  },
  "input-mode": { type: "string", description: "prompt, script or commands (relabels -p/-t/-f text)" },
  result: { type: "boolean", description: "wait for the task to end and print its result" },
} satisfies ArgsDef;
type CreateFlags = ParsedFlags<typeof args>;

/** Checks a local file the way the reference does (lstat: symlinks and directories are refused). */
async function checkFile(path: string, maxBytes: number, what: string): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    throw usageError(`${what} ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  });
  if (!st.isFile()) throw usageError(`${what} ${path}: not a regular file`);
  if (st.size > maxBytes) throw usageError(`${what} ${path}: larger than ${maxBytes} bytes`);
}

async function readChecked(path: string, maxBytes: number, what: string): Promise<string> {
  await checkFile(path, maxBytes, what);
  return readFile(path, "utf8").catch((err: Error) => {
    throw usageError(`${what} ${path}: not readable (${err.message})`);
  });
}

type Mode = { input_mode: InputMode; prompt: () => Promise<string> };

const nonBlankLines = (text: string) =>
  text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .join("\n");

function chosenMode(flags: CreateFlags): Mode {
  const modes: Mode[] = [];
  for (const name of ["prompt", "task"] as const) {
    const text = flags.string(name);
    if (text) modes.push({ input_mode: "prompt", prompt: async () => text });
  }
  const taskFile = flags.string("task-file");
  if (taskFile)
    modes.push({ input_mode: "prompt", prompt: () => readChecked(taskFile, INPUT_LIMITS.taskFile, "task file") });
  const script = flags.string("script");
  if (script) modes.push({ input_mode: "script", prompt: () => readChecked(script, INPUT_LIMITS.script, "script") });
  const commands = flags.list("command").filter((c) => c !== "");
  if (commands.length) modes.push({ input_mode: "commands", prompt: async () => commands.join("\n") });
  const commandsFile = flags.string("commands-file");
  if (commandsFile) {
    const prompt = async () =>
      nonBlankLines(await readChecked(commandsFile, INPUT_LIMITS.commandsFile, "commands file"));
    modes.push({ input_mode: "commands", prompt });
  }
  if (modes.length !== 1) throw usageError("exactly one task input mode is required");
  return modes[0]!;
}

/** Builds the CreateTaskRequest from `task create` flags, or throws a usage error. */
export async function buildCreateTaskRequest(flags: CreateFlags): Promise<CreateTaskRequest> {
  const mode = chosenMode(flags);
  // An agent's goal is text (reference: `use_sba` wins over the input mode), so a script or commands cannot be one.
  if (flags.bool("use-sba") && mode.input_mode !== "prompt")
    throw usageError("--use-sba takes its goal from -p, -t or -f");
  let inputMode = mode.input_mode;
  const override = flags.string("input-mode");
  if (override !== undefined) {
    if (!(INPUT_MODES as readonly string[]).includes(override))
      throw usageError(`--input-mode must be one of ${INPUT_MODES.join(", ")}`);
    // As in the reference, the override only re-labels text given as a prompt (-p/-t/-f).
    if (inputMode === "prompt") inputMode = override as InputMode;
  }
  const projectId = flags.string("project-id");
  if (projectId !== undefined && !UUID.test(projectId)) throw usageError("--project-id must be a UUID");
  const attachments = flags.list("attach");
  if (attachments.length > INPUT_LIMITS.attachments)
    throw usageError(`at most ${INPUT_LIMITS.attachments} attachments are allowed`);
  for (const path of attachments) await checkFile(path, INPUT_LIMITS.attachment, "attachment");
  const prompt = await mode.prompt();
  if (prompt.trim() === "") throw usageError("the task input is empty");
  const name = flags.string("name");
  const skills = flags.list("skill");
  if (skills.length && !flags.bool("use-sba")) throw usageError("--skill needs --use-sba (skills are for agents)");
  const allowedHosts = flags.list("allow-host");
  return {
    prompt,
    input_mode: inputMode,
    ...(name ? { task_name: name } : {}),
    ...(projectId ? { project_id: projectId.toLowerCase() } : {}),
    ...(attachments.length ? { attachments } : {}),
    ...(flags.bool("use-inference") ? { use_inference: true } : {}),
    ...(flags.bool("use-sba") ? { use_sba: true } : {}),
    ...(skills.length ? { skills } : {}),
    ...(allowedHosts.length ? { allowed_hosts: allowedHosts } : {}),
  };
}

export default defineCynorkCommand({
  meta: { name: "create", description: "Create a task" },
  args,
  repeatable: ["command", "attach", "skill", "allow-host"],
  async run(flags, ctx) {
    const request = await buildCreateTaskRequest(flags);
    const client = ctx.authedClient();
    const files = request.attachments ?? [];
    const task = files.length ? await client.createTaskWithFiles(request, files) : await client.createTask(request);
    if (!flags.bool("result")) return ctx.print(task, { keys: ["task_id", "task_name"] });
    ctx.info(`task_id=${task.task_id} created, waiting for its result`);
    const result = await waitForTask(ctx, client, task.task_id, resultPollDelay);
    if (result) ctx.print(resultValue(result), RESULT_LINE);
  },
});
