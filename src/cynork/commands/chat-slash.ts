/**
 * The chat session's slash commands (reference-agents 2.8): case-insensitive, never sent to the model; most run
 * the cynork command they name with this session's config and globals. An unknown one is said so, and an error
 * never ends the session.
 */
import type { Ctx } from "../command";

export type Session = {
  model: string;
  /** The thread the next message continues; unset: the gateway's active thread. */
  threadId?: string;
  /** The conversation cynork resends to models other than the chat agent (the agent keeps its own). */
  history: { role: "user" | "assistant"; content: string }[];
  newThread(): Promise<void>;
};

export const SLASH_HELP = [
  "/models          list the models",
  "/model <id>      chat with another model (/model alone shows the current one)",
  "/thread new      start a new thread",
  "/tasks           list your tasks",
  "/task <id>       show a task",
  "/status          check the gateway",
  "/whoami          show the logged-in user",
  "/clear           forget this conversation (a new thread)",
  "/help            this list",
  "/exit, /quit     end the chat",
].join("\n");

const UNKNOWN = "Unknown command. Type /help for available commands.";

/** Runs `cynork <argv>` in this process with the session's config and globals. */
async function cynork(ctx: Ctx, argv: string[]): Promise<void> {
  const { runCli } = await import("../cli");
  const g = ctx.globals;
  const globals = ["-c", ctx.config.path, "-o", g.output, ...(g.caFile ? ["--ca-file", g.caFile] : [])];
  await runCli([...globals, ...(g.quiet ? ["-q"] : []), ...(g.noColor ? ["--no-color"] : []), ...argv], ctx.io);
}

const COMMANDS: Record<string, (ctx: Ctx, s: Session, args: string[]) => Promise<void>> = {
  "/models": (ctx) => cynork(ctx, ["models", "list"]),
  "/model": async (ctx, s, [id]) => {
    if (id) s.model = id;
    ctx.io.stderr.write(`Model: ${s.model}\n`);
  },
  "/thread": async (ctx, s, [sub]) =>
    sub?.toLowerCase() === "new" ? s.newThread() : void ctx.io.stderr.write(`${UNKNOWN}\n`),
  "/tasks": (ctx) => cynork(ctx, ["task", "list"]),
  "/task": (ctx, _, [id]) => cynork(ctx, id ? ["task", "get", id] : ["task", "list"]),
  "/status": (ctx) => cynork(ctx, ["status"]),
  "/whoami": (ctx) => cynork(ctx, ["auth", "whoami"]),
  "/clear": async (_, s) => {
    s.history.length = 0;
    await s.newThread();
  },
  "/help": async (ctx) => void ctx.io.stderr.write(`${SLASH_HELP}\n`),
};

/** Handles a slash line; false when it ends the session. */
export async function slashCommand(ctx: Ctx, s: Session, line: string): Promise<boolean> {
  const [name = "", ...args] = line.split(/\s+/);
  const command = name.toLowerCase();
  if (command === "/exit" || command === "/quit") return false;
  const run = COMMANDS[command];
  if (run) await run(ctx, s, args);
  else ctx.io.stderr.write(`${UNKNOWN}\n`);
  return true;
}
