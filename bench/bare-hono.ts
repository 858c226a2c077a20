/** Baseline server: a bare hono handler returning a fixed JSON body, no database, no auth. Prints its URL. */
import { Hono } from "hono";

const body = JSON.parse(process.argv[2] ?? "{}");
const app = new Hono().get("/v1/tasks/:id", (c) => c.json(body));
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
console.log(server.url.href);
