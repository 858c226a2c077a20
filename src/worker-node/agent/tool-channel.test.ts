import { describe, expect, it } from "bun:test";
import type { SessionIo } from "../sandbox/sandbox";
import { frameReader, toolChannel } from "./tool-channel";

const enc = new TextEncoder();
const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(enc.encode(x));
      c.close();
    },
  });

/** A sandbox's channel whose answers are given up front, as bytes (a loop that misbehaves). */
function fakeIo(answer: string) {
  const sent: string[] = [];
  const files = new Map<string, string>();
  const io: SessionIo = {
    send: (line) => void sent.push(line),
    put: async (name, data) => void files.set(name, String(data)),
    drop: async (name) => void files.delete(name),
    output: streamOf(answer),
    stderr: streamOf("loop noise"),
    artifacts: streamOf(""),
    end: () => void sent.push("(end)"),
  };
  return { io, sent, files };
}

describe("tool channel frames", () => {
  it("reads a header and exactly its byte count, across chunks", async () => {
    const f = frameReader(streamOf("1 0 5", " 0\nhel", "lo2 1 0 0\n"));
    expect(await f.line()).toBe("1 0 5 0");
    expect(new TextDecoder().decode(await f.bytes(5))).toBe("hello");
    expect(await f.line()).toBe("2 1 0 0");
    await expect(f.line()).rejects.toThrow("the sandbox's tool loop ended");
  });

  it("refuses a header longer than any frame's", async () => {
    await expect(frameReader(streamOf("x".repeat(200))).line()).rejects.toThrow("malformed frame");
  });

  it("answers in order, removes the request's files, and cuts output at the cap on a character boundary", async () => {
    const { io, sent, files } = fakeIo("1 0 3 0\naé2 3 0 4\nboom");
    const ch = toolChannel(io);
    const [a, b] = await Promise.all([
      ch.call({ script: "s1", files: { c: "content" }, cap: 2 }),
      ch.call({ script: "s2", cap: 10 }),
    ]);
    expect(a).toEqual({ exitCode: 0, output: "a", truncated: true, error: undefined });
    expect(b).toEqual({ exitCode: 3, output: "", truncated: false, error: "boom" });
    expect(sent).toEqual(["1 3\n", "2 11\n"]);
    expect(files.size).toBe(0);
    ch.close();
    expect(sent.at(-1)).toBe("(end)");
  });

  it("fails a call whose frame is not its own (a forged or out-of-order answer)", async () => {
    const ch = toolChannel(fakeIo("7 0 0 0\n").io);
    await expect(ch.call({ script: "s", cap: 10 })).rejects.toThrow("malformed frame");
    const big = toolChannel(fakeIo("1 0 99 0\n").io);
    await expect(big.call({ script: "s", cap: 10 })).rejects.toThrow("malformed frame");
  });
});
