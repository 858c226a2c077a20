/**
 * A node's streamed Ollama answer (NDJSON) as OpenAI server-sent events: a first chunk with the assistant role, one
 * chunk per piece of content, a last chunk with the finish reason, then `data: [DONE]`. A failure mid-stream is sent
 * as an OpenAI error event (the status line is long gone) before `[DONE]`.
 */
import { SSE_DONE, type OpenAIError } from "../../contracts/openai";
import { ndjsonAnswers, toChunk, type CompletionMeta } from "./ollama-chat";

export type StreamOutcome = "completed" | "canceled" | "cynodeai_inference_failed";

const event = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

function errorEvent(message: string): string {
  const body: OpenAIError = {
    error: { message, type: "cynodeai_error", param: null, code: "cynodeai_inference_failed" },
  };
  return event(body);
}

export function sseCompletion(
  body: ReadableStream<Uint8Array>,
  meta: CompletionMeta,
  hooks: { abort: () => void; onEnd: (outcome: StreamOutcome) => void },
): Response {
  const encoder = new TextEncoder();
  const answers = ndjsonAnswers(body);
  let ended = false;
  const end = (outcome: StreamOutcome) => {
    if (ended) return;
    ended = true;
    hooks.onEnd(outcome);
  };
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(event(toChunk(meta, { role: "assistant", content: "" }))));
    },
    async pull(controller) {
      const send = (text: string) => controller.enqueue(encoder.encode(text));
      try {
        const next = await answers.next();
        if (next.done) throw new Error("the node's answer ended before it was done");
        const answer = next.value;
        if (answer.error) throw new Error(answer.error);
        const content = answer.message?.content ?? "";
        if (content) send(event(toChunk(meta, { content })));
        if (!answer.done) return;
        send(event(toChunk(meta, {}, answer)) + event(SSE_DONE));
        end("completed");
      } catch (err) {
        if (ended) return;
        send(errorEvent(`Inference failed: ${(err as Error).message}`) + event(SSE_DONE));
        end("cynodeai_inference_failed");
      }
      controller.close();
      hooks.abort();
    },
    cancel() {
      end("canceled");
      hooks.abort();
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
