/**
 * Secrets out of chat messages before they are stored or sent to a model (reference-agents 2.5): `sk-` keys, and
 * `api_key=…`, `secret: …`, `password=…`, `token: …`, `bearer=…` values. The recorded kind is `api_key`.
 */
export const SECRET_REDACTED = "SECRET_REDACTED";

const SK_KEY = /sk-[A-Za-z0-9\-._]{20,}/g;
const ASSIGNED = /(api[_-]?key|secret|password|token|bearer)\s*[:=]\s*[A-Za-z0-9\-._~+/]+=*/gi;

export function redactSecrets(text: string): { text: string; kinds: string[] } {
  const redacted = text
    .replace(SK_KEY, SECRET_REDACTED)
    .replace(ASSIGNED, (_, word: string) => `${word}: ${SECRET_REDACTED}`);
  return { text: redacted, kinds: redacted === text ? [] : ["api_key"] };
}
