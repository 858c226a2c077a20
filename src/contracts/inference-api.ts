/**
 * The inference API a sandbox may reach (decision 24): the one allow-list the inference-proxy sidecar enforces and the
 * node's relay enforces again. Everything else of Ollama (pull, push, create, copy, delete, …) is refused.
 */

/** What a route's body or answer is checked for: a named model, or a model list to filter. */
export type InferenceRouteKind = "model" | "tags" | "models" | "plain";
/** `ollama` bodies carry `options`/`keep_alive`; `openai` ones `max_tokens`. `generates` routes produce tokens. */
export type InferenceRoute = { kind: InferenceRouteKind; dialect: "ollama" | "openai"; generates: boolean };

const model = (dialect: InferenceRoute["dialect"], generates: boolean): InferenceRoute => ({
  kind: "model",
  dialect,
  generates,
});

/** `METHOD path` → what it is. Paths are matched exactly; no prefix, no trailing slash. */
export const INFERENCE_ROUTES: Readonly<Record<string, InferenceRoute>> = {
  "POST /api/chat": model("ollama", true),
  "POST /api/generate": model("ollama", true),
  "POST /api/embed": model("ollama", false),
  "POST /api/embeddings": model("ollama", false),
  "POST /api/show": model("ollama", false),
  "GET /api/tags": { kind: "tags", dialect: "ollama", generates: false },
  "GET /api/version": { kind: "plain", dialect: "ollama", generates: false },
  "POST /v1/chat/completions": model("openai", true),
  "POST /v1/completions": model("openai", true),
  "POST /v1/embeddings": model("openai", false),
  "GET /v1/models": { kind: "models", dialect: "openai", generates: false },
};

export type InferenceDecision =
  | { allowed: true; path: string; route: InferenceRoute }
  | { allowed: false; detail: string };

/** Spellings an upstream may read as another path: dot segments, empty segments, escapes, backslashes, controls. */
const AMBIGUOUS = /%|\\|\/\/|\/\.\.?(\/|$)|[^\x21-\x7e]/;

/**
 * Whether a request target is part of the inference API. Only an origin-form target (`/path[?query]`) whose path is
 * spelled exactly as listed passes; the query is dropped (no listed route reads one), so the upstream sees `path` alone.
 */
export function decideInferenceRequest(method: string, target: string): InferenceDecision {
  if (!target.startsWith("/"))
    return { allowed: false, detail: "only origin-form request targets (/path) are accepted" };
  const path = target.split(/[?#]/, 1)[0]!;
  if (AMBIGUOUS.test(path)) return { allowed: false, detail: `ambiguous request path refused: ${path}` };
  const route = INFERENCE_ROUTES[`${method} ${path}`];
  if (!route) {
    return { allowed: false, detail: `${method} ${path} is not part of the inference API this sandbox may use` };
  }
  return { allowed: true, path, route };
}
