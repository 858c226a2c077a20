/** Reads the gateway's SSE chat stream (lib/chat-deltas.ts); a broken stream is the gateway's fault (exit 7). */
import { chatDeltas as deltas } from "../lib/chat-deltas";
import { CliError, EXIT } from "./errors";

export const chatDeltas = (body: ReadableStream<Uint8Array>): AsyncGenerator<string> =>
  deltas(body, (message) => new CliError(EXIT.gateway, message));
