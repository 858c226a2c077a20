/**
 * `cynork chat`: talk to the chat agent (`cynodeai.pm`, the default) or a model through the gateway's
 * OpenAI-compatible `POST /v1/chat/completions`, printing the reply as it streams in (its Markdown rendered line by
 * line unless `--plain`). `-m` sends one message; without it, each line read is a message (a prompt on a TTY) and
 * lines starting with `/` are slash commands (`/help`). The chat agent keeps the conversation in its thread (each
 * turn sends only the new message); other models get the conversation resent. `--thread-new` starts a thread,
 * `--thread <id>` continues one, `--project-id` scopes the chat and the tasks the agent creates.
 */
import { PM_MODEL, PROJECT_HEADER, THREAD_HEADER } from "../../contracts/chat-agent";
import type { ChatCompletionRequest } from "../../contracts/openai";
import { chatDeltas } from "../chat-stream";
import { type Ctx, defineCynorkCommand } from "../command";
import { CliError } from "../errors";
import type { GatewayClient } from "../gateway-client";
import { markdownWriter } from "../terminal-markdown";
import { type Session, slashCommand } from "./chat-slash";

type Messages = ChatCompletionRequest["messages"];
type Options = { plain: boolean; projectId?: string };

/** `--plain`: the reply exactly as the model sent it; else its Markdown rendered (ASCII without colour). */
function replyWriter(ctx: Ctx, plain: boolean) {
  const { stdout, env } = ctx.io;
  const write = (s: string) => stdout.write(s);
  if (plain) return { write, end: () => write("\n") };
  return markdownWriter(write, stdout.isTTY && !ctx.globals.noColor && !env.NO_COLOR);
}

const projectHeaders = (o: Options): Record<string, string> => (o.projectId ? { [PROJECT_HEADER]: o.projectId } : {});
const headers = (s: Session, o: Options) => ({
  ...projectHeaders(o),
  ...(s.threadId ? { [THREAD_HEADER]: s.threadId } : {}),
});

/** Sends a message and prints the reply as it arrives; resolves to the reply text. */
async function turn(ctx: Ctx, client: GatewayClient, s: Session, o: Options, text: string): Promise<string> {
  const said = { role: "user" as const, content: text };
  const messages: Messages = s.model === PM_MODEL ? [said] : [...s.history, said];
  const body = { model: s.model, messages };
  if (ctx.globals.output === "json") {
    const res = await client.chat({ ...body, stream: false }, undefined, headers(s, o));
    s.threadId ??= res.headers.get(THREAD_HEADER) ?? undefined;
    const completion = await client.decodeCompletion(res);
    ctx.print(completion, {});
    return completion.choices[0]?.message.content ?? "";
  }
  const res = await client.chat({ ...body, stream: true }, ctx.io.interrupt, headers(s, o));
  // The agent's thread is kept for the next turns (so a new active thread elsewhere does not take over).
  s.threadId ??= res.headers.get(THREAD_HEADER) ?? undefined;
  const out = replyWriter(ctx, o.plain);
  let reply = "";
  for await (const piece of chatDeltas(res.body!)) {
    out.write(piece);
    reply += piece;
  }
  out.end();
  return reply;
}

async function conversation(ctx: Ctx, client: GatewayClient, s: Session, o: Options): Promise<void> {
  const { stdin, stderr } = ctx.io;
  if (stdin.isTTY)
    stderr.write("Type a message and press Enter; /help lists commands, /exit or Ctrl+D ends the chat.\n");
  for (;;) {
    if (stdin.isTTY) stderr.write("> ");
    const line = (await stdin.readLine())?.trim();
    if (line === undefined) break;
    if (!line) continue;
    try {
      if (line.startsWith("/")) {
        if (!(await slashCommand(ctx, s, line))) break;
        continue;
      }
      const reply = await turn(ctx, client, s, o, line);
      s.history.push({ role: "user", content: line }, { role: "assistant", content: reply });
    } catch (err) {
      // A failed turn is reported and forgotten; the chat goes on, as the reference's.
      if (!(err instanceof CliError)) throw err;
      stderr.write(`Error: ${err.message}\n`);
      if (ctx.io.interrupt.aborted) break;
    }
  }
  if (stdin.isTTY) stderr.write("\n");
}

export default defineCynorkCommand({
  meta: {
    name: "chat",
    description: "Chat with the chat agent or a model (POST /v1/chat/completions); -m sends one message",
  },
  args: {
    message: { type: "string", alias: "m", description: "send one message and print response (non-interactive)" },
    model: { type: "string", description: `model ID (default ${PM_MODEL}, the chat agent)` },
    plain: {
      type: "boolean",
      description: "print replies exactly as the model sent them (else Markdown is rendered; ASCII without colour)",
    },
    "thread-new": { type: "boolean", description: "start a new thread first" },
    thread: { type: "string", description: "continue this thread (its id)" },
    "project-id": {
      type: "string",
      description: "the project of the chat and of the tasks it creates (OpenAI-Project)",
    },
  },
  async run(flags, ctx) {
    const client = ctx.authedClient();
    const o: Options = { plain: flags.bool("plain"), projectId: flags.string("project-id") || undefined };
    const s: Session = {
      model: flags.string("model") || PM_MODEL,
      threadId: flags.string("thread") || undefined,
      history: [],
      async newThread() {
        const thread = await client.createThread({}, projectHeaders(o));
        s.threadId = thread.id;
        ctx.io.stderr.write(`New thread started: ${thread.id}\n`);
      },
    };
    if (flags.bool("thread-new")) await s.newThread();
    const message = flags.string("message");
    if (message) await turn(ctx, client, s, o, message);
    else await conversation(ctx, client, s, o);
  },
});
