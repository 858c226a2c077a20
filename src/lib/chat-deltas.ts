/**
 * Reads the gateway's SSE chat stream: yields each piece of content as it arrives, until `data: [DONE]`. Shared by
 * cynork and the web console (no Bun or Node API here); each says how a broken stream fails with `fail`.
 */
import * as v from "valibot";
import { ChatCompletionChunk, OpenAIError, SSE_DONE } from "../contracts/openai";

export type StreamFailure = (message: string) => Error;

function parseEvent(data: string, fail: StreamFailure): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    throw fail("unexpected response from gateway: a stream event is not JSON");
  }
  const error = v.safeParse(OpenAIError, body);
  if (error.success) throw fail(error.output.error.message);
  const chunk = v.safeParse(ChatCompletionChunk, body);
  if (!chunk.success) throw fail("unexpected response from gateway: not a chat.completion.chunk");
  return chunk.output.choices[0]?.delta.content;
}

export async function* chatDeltas(body: ReadableStream<Uint8Array>, fail: StreamFailure): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true }).replace(/\r\n/g, "\n");
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      if (data === SSE_DONE) return;
      const piece = data ? parseEvent(data, fail) : undefined;
      if (piece) yield piece;
      end = buffered.indexOf("\n\n");
    }
  }
  throw fail("the gateway ended the chat stream early");
}
