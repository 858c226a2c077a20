/**
 * Closed-loop HTTP load generator, run as its own process so it does not share an event loop with the server:
 * bun bench/load.ts <url> <concurrency> <durationMs> [bearer]   → prints {"requests":n,"rps":r,"errors":e}
 */
export {};

const [url, conc = "32", dur = "3000", token] = process.argv.slice(2);
const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
const end = performance.now() + Number(dur);
let requests = 0;
let errors = 0;
await Promise.all(
  Array.from({ length: Number(conc) }, async () => {
    while (performance.now() < end) {
      const res = await fetch(url!, { headers }).catch(() => undefined);
      if (res?.ok) await res.arrayBuffer();
      else errors++;
      requests++;
    }
  }),
);
console.log(JSON.stringify({ requests, rps: requests / (Number(dur) / 1000), errors }));
