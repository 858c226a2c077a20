/** The inference requests both inference measurements send (host and in-pod): dependency-free, so it runs in a pod. */

/** Sends one request to an Ollama API base (TCP or Unix socket). */
export type Send = (path: string, init: RequestInit) => Promise<Response>;

export const MODEL = "qwen3.5:0.8b";

export const tcp =
  (base: string): Send =>
  (path, init) =>
    fetch(base + path, init);
export const unixSocket =
  (socket: string): Send =>
  (path, init) =>
    fetch(`http://localhost${path}`, { ...init, unix: socket } as RequestInit);

async function generate(send: Send, body: unknown): Promise<number> {
  const res = await send("/api/generate", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`/api/generate answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += chunk.byteLength;
  return bytes;
}

/** `n` sequential small non-streamed requests; the latency of each in ms. */
export async function latencies(send: Send, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await generate(send, { model: MODEL, prompt: `hello ${i}`, stream: false });
    out.push(performance.now() - t);
  }
  return out;
}

/** ~1 MB: 1024 words of 1 KiB, which the test double echoes back one NDJSON chunk per word. */
export const BIG_PROMPT = Array.from(
  { length: 1024 },
  (_, i) => `${String(i).padStart(4, "0")}${"x".repeat(1019)}`,
).join(" ");

/** One streamed ~1 MB reply; its throughput in MB/s. */
export async function streamMbPerSecond(send: Send): Promise<number> {
  const t = performance.now();
  const bytes = await generate(send, { model: MODEL, prompt: BIG_PROMPT, stream: true });
  if (bytes < 1_000_000) throw new Error(`streamed reply too short: ${bytes} bytes`);
  return bytes / 1e6 / ((performance.now() - t) / 1000);
}

/** Rounds alternating direct and proxied: small-request latencies and streamed throughputs of each path. */
export async function measurePaths(direct: Send, proxied: Send, rounds: number, smallPerRound: number) {
  await latencies(direct, 50);
  await latencies(proxied, 50);
  const out = {
    small: { direct: [] as number[], proxied: [] as number[] },
    stream: { direct: [] as number[], proxied: [] as number[] },
  };
  for (let r = 0; r < rounds; r++) {
    out.small.direct.push(...(await latencies(direct, smallPerRound)));
    out.small.proxied.push(...(await latencies(proxied, smallPerRound)));
    for (let i = 0; i < 3; i++) {
      out.stream.direct.push(await streamMbPerSecond(direct));
      out.stream.proxied.push(await streamMbPerSecond(proxied));
    }
  }
  return out;
}
export type PathMeasurements = Awaited<ReturnType<typeof measurePaths>>;
