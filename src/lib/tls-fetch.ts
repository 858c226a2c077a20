/** Fetches that trust one CA (PEM) instead of the system roots, and the one-line account of a refused certificate. */
import { createHash, X509Certificate } from "node:crypto";

/** `fetch` with `ca` as its only trusted CA; without `ca`, `doFetch` itself. */
export function fetchWithCa(doFetch: typeof fetch, ca: string | undefined): typeof fetch {
  if (!ca) return doFetch;
  const trusting = (input: string | URL | Request, init?: RequestInit) =>
    doFetch(input, { ...init, tls: { ...(init as { tls?: object } | undefined)?.tls, ca } } as RequestInit);
  return Object.assign(trusting, { preconnect: doFetch.preconnect }) as typeof fetch;
}

const CERT_ERROR =
  /CERT|certificate|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|HOSTNAME_MISMATCH|ERR_SSL|self[- ]signed|issuer/i;

/** Whether a fetch failure is the peer's certificate being refused (not a refused or dropped connection). */
export function isCertificateError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return CERT_ERROR.test(`${e?.code ?? ""} ${e?.message ?? ""}`);
}

/** `sha256:<hex>` of the DER form of the first certificate in `pem` (kubeadm's CA cert hash). */
export function caDigest(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

/** Normalises a pin given as `sha256:<hex>` or bare hex; undefined when it is not 64 hex digits. */
export function parseCaPin(pin: string): string | undefined {
  const hex = pin
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, "");
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
}
