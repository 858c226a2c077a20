/**
 * The Ollama-API-compatible TEST DOUBLE (src/testing) as its own process, so it shares no event loop with the
 * benchmark's client. bun ollama-double.ts [unix socket]. Prints its URL. Never inference: it echoes the prompt.
 */
import { startOllamaTestServer } from "../src/testing/ollama-test-server";

const server = await startOllamaTestServer({ port: 0, socket: process.argv[2] });
console.log(JSON.stringify({ msg: "ollama test double listening", url: server.url, socket: server.socket }));
// It records every request for tests; here that would only grow.
setInterval(() => void server.requests.splice(0), 1000);
