import { describe, expect, it } from "bun:test";
import { BodyTooLargeError, limitBody } from "./body-limit";

const streamOf = (...chunks: number[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const n of chunks) c.enqueue(new Uint8Array(n));
      c.close();
    },
  });

describe("limitBody", () => {
  it("passes a body up to the limit through unchanged", async () => {
    const limited = limitBody(streamOf(4, 6), 10);
    expect((await new Response(limited.stream).arrayBuffer()).byteLength).toBe(10);
    expect(limited.exceeded()).toBe(false);
  });

  it("fails the stream at the first byte past the limit", async () => {
    const limited = limitBody(streamOf(4, 6, 1), 10);
    const error = await new Response(limited.stream).arrayBuffer().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(limited.exceeded()).toBe(true);
  });
});
