/** Header filtering for the inference proxy and relay: hop-by-hop headers never cross them, and no credential passes either way. */

// RFC 9110 §7.6.1 connection-specific fields, plus the non-standard Proxy-Connection.
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
// The sandbox must not hand credentials to the node's Ollama, and Ollama's answers must not set any in the sandbox.
const REQUEST_CREDENTIALS = ["authorization", "cookie"];
const RESPONSE_CREDENTIALS = ["set-cookie", "www-authenticate"];

function withoutHopByHop(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const name of (headers.get("connection") ?? "").split(",")) if (name.trim()) out.delete(name.trim());
  for (const name of HOP_BY_HOP) out.delete(name);
  return out;
}

/** Headers sent upstream. Host is dropped so fetch names the upstream. */
export function upstreamRequestHeaders(incoming: Headers): Headers {
  const out = withoutHopByHop(incoming);
  for (const name of [...REQUEST_CREDENTIALS, "host"]) out.delete(name);
  // Responses pass through undecoded, so never let fetch ask for an encoding the client did not accept.
  if (!out.has("accept-encoding")) out.set("accept-encoding", "identity");
  return out;
}

/** Headers returned to the sandbox. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const out = withoutHopByHop(upstream);
  for (const name of RESPONSE_CREDENTIALS) out.delete(name);
  return out;
}
