/**
 * `cynork chat`: talk to a model through the gateway's OpenAI-compatible `POST /v1/chat/completions`, printing the
 * reply as it streams in (its Markdown rendered line by line unless `--plain`). `-m` sends one message; without it, each line read is a message (a prompt on a TTY) and the
 * conversation is kept for the next turn; `/exit`, `/quit` or end of input (Ctrl+D) ends it.
 */
import type { ChatCompletionRequest } from "../../contracts/openai";
import { chatDeltas } from "../chat-stream";
import { type Ctx, defineCynorkCommand } from "../command";
import { CliError } from "../errors";
import { markdownWriter } from "../terminal-markdown";
import type { GatewayClient } from "../gateway-client";

type Messages = ChatCompletionRequest["messages"];

type Turn = { model: string | undefined; plain: boolean };

/** `--plain`: the reply exactly as the model sent it; else its Markdown rendered (ASCII without colour). */
function replyWriter(ctx: Ctx, plain: boolean) {
  const { stdout, env } = ctx.io;
  const write = (s: string) => stdout.write(s);
  if (plain) return { write, end: () => write("\n") };
  return markdownWriter(write, stdout.isTTY && !ctx.globals.noColor && !env.NO_COLOR);
}

/** Sends the conversation and prints the reply as it arrives; resolves to the reply text. */
async function turn(ctx: Ctx, client: GatewayClient, messages: Messages, { model, plain }: Turn): Promise<string> {
  const body = { ...(model ? { model } : {}), messages };
  if (ctx.globals.output === "json") {
    const completion = await client.decodeCompletion(await client.chat({ ...body, stream: false }));
    ctx.print(completion, {});
    return completion.choices[0]?.message.content ?? "";
  }
  const res = await client.chat({ ...body, stream: true }, ctx.io.interrupt);
  const out = replyWriter(ctx, plain);
  let reply = "";
  for await (const piece of chatDeltas(res.body!)) {
    out.write(piece);
    reply += piece;
  }
  out.end();
  return reply;
}

async function conversation(ctx: Ctx, client: GatewayClient, options: Turn): Promise<void> {
  const { stdin, stderr } = ctx.io;
  if (stdin.isTTY) stderr.write("Type a message and press Enter; /exit, /quit or Ctrl+D ends the chat.\n");
  const messages: Messages = [];
  for (;;) {
    if (stdin.isTTY) stderr.write("> ");
    const line = (await stdin.readLine())?.trim();
    if (line === undefined || line === "/exit" || line === "/quit") break;
    if (!line) continue;
    messages.push({ role: "user", content: line });
    try {
      messages.push({ role: "assistant", content: await turn(ctx, client, messages, options) });
    } catch (err) {
      // A failed turn is reported and forgotten; the chat goes on, as the reference's.
      if (!(err instanceof CliError)) throw err;
      messages.pop();
      stderr.write(`Error: ${err.message}\n`);
      if (ctx.io.interrupt.aborted) break;
    }
  }
  if (stdin.isTTY) stderr.write("\n");
}

export default defineCynorkCommand({
  meta: {
    name: "chat",
    description: "Chat with a model (POST /v1/chat/completions); -m sends one message, else one message per line",
  },
  args: {
    message: { type: "string", alias: "m", description: "send one message and print response (non-interactive)" },
    model: {
      type: "string",
      description: "model ID for chat completions (sent as OpenAI model field; gateway default if omitted)",
    },
    plain: {
      type: "boolean",
      description: "print replies exactly as the model sent them (else Markdown is rendered; ASCII without colour)",
    },
  },
  async run(flags, ctx) {
    const client = ctx.authedClient();
    const options = { model: flags.string("model") || undefined, plain: flags.bool("plain") };
    const message = flags.string("message");
    if (message) await turn(ctx, client, [{ role: "user", content: message }], options);
    else await conversation(ctx, client, options);
  },
});
