/** `--healthcheck-url` mode, the readiness probe the worker runs inside the sidecar: one GET, exit 0 only on HTTP 200. */
import { parseUpstream } from "../lib/http-upstream";

export const HEALTHCHECK_TIMEOUT_MS = 2000;

/** `url` is `http://host:port/path`, or `unix:/path.sock` for `/healthz` on that socket. */
export async function healthcheck(url: string, timeoutMs = HEALTHCHECK_TIMEOUT_MS): Promise<0 | 1> {
  try {
    const target = url.startsWith("unix:")
      ? { url: "http://localhost/healthz", unix: parseUpstream(url).unix }
      : { url };
    const res = await fetch(target.url, {
      unix: target.unix,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await res.body?.cancel();
    return res.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}
