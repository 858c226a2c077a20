/** Counts a request body while it streams and fails the stream once it passes the limit, so chunked bodies are capped too. */

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

export type LimitedBody = { stream: ReadableStream<Uint8Array>; exceeded(): boolean };

export function limitBody(body: ReadableStream<Uint8Array>, maxBytes: number): LimitedBody {
  let seen = 0;
  let exceeded = false;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          exceeded = true;
          controller.error(new BodyTooLargeError(maxBytes));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream, exceeded: () => exceeded };
}
