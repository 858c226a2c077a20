/** Measurement 5, gateway: authenticated GET /v1/tasks/{id} throughput vs a bare hono handler returning the same JSON. */
import { compare, type Comparison } from "./harness";
import { login, startOrchestrator, startService, type Cleanup } from "./services";

async function load(url: string, token?: string): Promise<number> {
  const p = Bun.spawn(["bun", `${import.meta.dir}/load.ts`, url, "32", "3000", ...(token ? [token] : [])], {
    stdout: "pipe",
  });
  const out = JSON.parse(await new Response(p.stdout).text());
  if (out.errors) throw new Error(`${out.errors} failed requests against ${url}`);
  return out.rps;
}

export async function gatewayBench(runs: number, cleanup: Cleanup): Promise<Comparison> {
  const orch = await startOrchestrator(cleanup); // default log level: the access log is part of the cost
  orch.service.mute();
  const token = await login(orch.gatewayUrl);
  const res = await fetch(`${orch.gatewayUrl}/v1/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ prompt: "true", input_mode: "commands" }),
  });
  const task = (await res.json()) as { id: string };
  const bare = startService(cleanup, ["bun", `${import.meta.dir}/bare-hono.ts`, JSON.stringify(task)], {});
  const bareUrl = (await bare.waitForLine(/^http/)).replace(/\/$/, "");
  return compare(
    "gateway: authenticated GET /v1/tasks/{id}, 32 connections, 3 s windows (ratio = system/bare throughput)",
    {
      runs,
      unit: "req/s",
      system: () => load(`${orch.gatewayUrl}/v1/tasks/${task.id}`, token),
      baseline: () => load(`${bareUrl}/v1/tasks/${task.id}`),
    },
  );
}
