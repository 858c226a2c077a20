/** Where a proxy (the inference sidecar, the node relay) forwards to: `http(s)://host:port[/prefix]` or `unix:/path.sock` (HTTP over a Unix socket). */

export type Upstream = { origin: string; basePath: string; unix?: string };

export function parseUpstream(text: string): Upstream {
  const s = text.trim();
  if (s.startsWith("unix:")) {
    const unix = s.slice("unix:".length);
    if (!unix.startsWith("/")) throw new Error(`invalid upstream ${text}: unix socket path must be absolute`);
    // Ollama only accepts loopback Host names when it listens on loopback, so name it localhost.
    return { origin: "http://localhost", basePath: "", unix };
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Error(`invalid upstream ${text}: expected http://host:port or unix:/path.sock`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`invalid upstream ${text}: only http, https and unix are supported`);
  if (url.username || url.password) throw new Error(`invalid upstream ${text}: credentials in the URL are not allowed`);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, "") };
}

/** The URL (and socket) for a request path plus query on the upstream. */
export function upstreamTarget(up: Upstream, pathAndQuery: string): { url: string; unix?: string } {
  return { url: up.origin + up.basePath + pathAndQuery, unix: up.unix };
}
