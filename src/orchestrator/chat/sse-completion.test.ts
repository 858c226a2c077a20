import { describe, expect, it } from "bun:test";
import { sseCompletion, type StreamOutcome } from "./sse-completion";

const meta = { id: "chatcmpl-1", created: 1, model: "m" };
const ndjson = (lines: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      // Split mid-line to check the reader joins pieces.
      const text = lines.join("\n");
      c.enqueue(new TextEncoder().encode(text.slice(0, 5)));
      c.enqueue(new TextEncoder().encode(text.slice(5)));
      c.close();
    },
  });

async function run(lines: string[]) {
  const ends: StreamOutcome[] = [];
  let aborted = 0;
  const res = sseCompletion(ndjson(lines), meta, { abort: () => aborted++, onEnd: (o) => ends.push(o) });
  const events = (await res.text()).split("\n\n").filter(Boolean);
  return { events, ends, aborted };
}

describe("sseCompletion", () => {
  it("turns Ollama's pieces into chunks, a finish chunk and [DONE]", async () => {
    const { events, ends } = await run([
      JSON.stringify({ message: { content: "a " } }),
      JSON.stringify({ message: { content: "b" } }),
      JSON.stringify({ message: { content: "" }, done: true, done_reason: "length" }),
    ]);
    const data = events.map((e) => e.replace(/^data: /, ""));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "a " },
      { content: "b" },
      {},
    ]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
    expect(ends).toEqual(["completed"]);
  });

  it("sends an OpenAI error event then [DONE] when the node reports an error or stops early", async () => {
    for (const lines of [
      [JSON.stringify({ error: "model crashed" })],
      [JSON.stringify({ message: { content: "x" } })],
      ["not json"],
    ]) {
      const { events, ends } = await run(lines);
      expect(events.at(-1)).toBe("data: [DONE]");
      const error = JSON.parse(events.at(-2)!.replace(/^data: /, "")).error;
      expect([error.type, error.code]).toEqual(["cynodeai_error", "cynodeai_inference_failed"]);
      expect(ends).toEqual(["cynodeai_inference_failed"]);
    }
  });

  it("aborts the node's request when the client goes away", async () => {
    const ends: StreamOutcome[] = [];
    let aborted = 0;
    const never = new ReadableStream<Uint8Array>({ start() {} });
    const res = sseCompletion(never, meta, { abort: () => aborted++, onEnd: (o) => ends.push(o) });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect([ends, aborted]).toEqual([["canceled"], 1]);
  });
});
