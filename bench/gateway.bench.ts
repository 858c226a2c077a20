/** Gateway: authenticated GET /v1/tasks/{id} throughput vs a bare hono handler returning the same JSON. */
import { BOOTSTRAP_PASSWORD, startOrchestrator } from "../bdd/support/orchestrator-process";
import { compare, type Comparison } from "./harness";

async function load(url: string, token?: string): Promise<number> {
  const p = Bun.spawn(["bun", `${import.meta.dir}/load.ts`, url, "32", "3000", ...(token ? [token] : [])], { stdout: "pipe" });
  const out = JSON.parse(await new Response(p.stdout).text());
  if (out.errors) throw new Error(`${out.errors} failed requests against ${url}`);
  return out.rps;
}

async function startBare(body: unknown): Promise<{ url: string; stop(): void }> {
  const p = Bun.spawn(["bun", `${import.meta.dir}/bare-hono.ts`, JSON.stringify(body)], { stdout: "pipe" });
  const { value } = await p.stdout.getReader().read();
  return { url: new TextDecoder().decode(value).trim().replace(/\/$/, ""), stop: () => p.kill() };
}

export async function gatewayBench(runs: number): Promise<Comparison> {
  const orch = await startOrchestrator({ LOG_LEVEL: "warn" });
  try {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(orch.gatewayUrl + path, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const { access_token } = await post("/v1/auth/login", { handle: "admin", password: BOOTSTRAP_PASSWORD });
    const task = await post("/v1/tasks", { prompt: "true", input_mode: "commands" }, access_token);
    const bare = await startBare(task);
    try {
      return await compare("gateway: authenticated GET /v1/tasks/{id}, 32 connections, 3 s windows (ratio = system/bare throughput)", {
        runs,
        unit: "req/s",
        system: () => load(`${orch.gatewayUrl}/v1/tasks/${task.id}`, access_token),
        baseline: () => load(`${bare.url}/v1/tasks/${task.id}`),
      });
    } finally {
      bare.stop();
    }
  } finally {
    await orch.stop();
  }
}
