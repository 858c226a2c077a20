import { describe, expect, it } from "bun:test";
import { chatDeltas } from "./chat-stream";
import { CliError } from "./errors";

const sse = (text: string) => new Response(text).body!;
const chunk = (content: string) =>
  JSON.stringify({
    id: "c",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });

async function collect(text: string): Promise<string[] | CliError> {
  const out: string[] = [];
  try {
    for await (const piece of chatDeltas(sse(text))) out.push(piece);
    return out;
  } catch (err) {
    return err as CliError;
  }
}

describe("chatDeltas", () => {
  it("yields each content piece until [DONE], CRLF framing included", async () => {
    expect(await collect(`data: ${chunk("a")}\r\n\r\n: comment\n\ndata: ${chunk("b")}\n\ndata: [DONE]\n\n`)).toEqual([
      "a",
      "b",
    ]);
  });

  it("turns an error event, a non-JSON event, a foreign object and an early end into gateway errors (exit 7)", async () => {
    const error = JSON.stringify({ error: { message: "boom", type: "cynodeai_error", param: null, code: null } });
    for (const [text, message] of [
      [`data: ${error}\n\n`, "boom"],
      ["data: {nope\n\n", "unexpected response from gateway: a stream event is not JSON"],
      ['data: {"x":1}\n\n', "unexpected response from gateway: not a chat.completion.chunk"],
      [`data: ${chunk("a")}\n\n`, "the gateway ended the chat stream early"],
    ]) {
      const err = await collect(text!);
      expect(err).toBeInstanceOf(CliError);
      expect([(err as CliError).exitCode, (err as CliError).message]).toEqual([7, message!]);
    }
  });
});
