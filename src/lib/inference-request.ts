/**
 * What an inference request body may ask for: only the job's allowed models, and generation options clamped to the
 * node's limits (`num_ctx`, `num_predict`/`max_tokens`, `keep_alive`). One clamp for the sidecar and the Worker API's
 * inference chat; the model lists a sandbox sees are filtered with the same matching.
 */
import type { InferenceRoute } from "../contracts/inference-api";
import { parseDuration } from "./duration";

export type InferenceLimits = {
  /** Ceiling of `options.num_predict` (Ollama) and `max_tokens`/`max_completion_tokens` (OpenAI). */
  maxTokens: number;
  /** Ceiling of `options.num_ctx`: the context, and so the memory, a request may make the model allocate. */
  maxContext: number;
  /** Ceiling of `keep_alive` (a Go duration such as `5m`); a negative one (forever) is clamped too. */
  keepAlive: string;
};

export const DEFAULT_INFERENCE_LIMITS: InferenceLimits = { maxTokens: 4096, maxContext: 8192, keepAlive: "5m" };

type Json = Record<string, unknown>;
export type BodyRefusal = { status: 400 | 403; detail: string };

/** `name` and `name:latest` are one model; the tag is what follows the last `:` after the last `/`. */
function canonicalModel(name: string): string {
  const tagged = name.indexOf(":", name.lastIndexOf("/") + 1) >= 0;
  return tagged ? name : `${name}:latest`;
}

export function modelAllowed(name: string, allowed: readonly string[]): boolean {
  const wanted = canonicalModel(name);
  return allowed.some((a) => canonicalModel(a) === wanted);
}

const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

/** Parses a request body as one JSON object, or says why it is not one. */
export function parseJsonObject(body: Uint8Array): Json | string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return "the request body is not valid JSON";
  }
  return isObject(value) ? value : "the request body must be a JSON object";
}

/** A number at or below `max` (negative values, which mean unbounded, become `max`), or the error. */
function ceiling(value: unknown, max: number, name: string): number | string {
  if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a number`;
  return value < 0 || value > max ? max : value;
}

/** Milliseconds of an Ollama `keep_alive` (seconds as a number, or a duration string); negative means forever. */
function keepAliveMs(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000;
  if (typeof value !== "string") return undefined;
  if (value.trim().startsWith("-")) return -1;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

function clampOllama(body: Json, generates: boolean, limits: InferenceLimits): string | undefined {
  if (body.options !== undefined && body.options !== null) {
    if (!isObject(body.options)) return "options must be an object";
    const options = { ...body.options };
    if (options.num_ctx !== undefined && options.num_ctx !== null) {
      const n = ceiling(options.num_ctx, limits.maxContext, "options.num_ctx");
      if (typeof n === "string") return n;
      options.num_ctx = n;
    }
    body.options = options;
  }
  if (generates) {
    const options = isObject(body.options) ? { ...body.options } : {};
    const given = options.num_predict ?? -1;
    const n = ceiling(given, limits.maxTokens, "options.num_predict");
    if (typeof n === "string") return n;
    body.options = { ...options, num_predict: n };
  }
  if (body.keep_alive !== undefined && body.keep_alive !== null) {
    const ms = keepAliveMs(body.keep_alive);
    if (ms === undefined) return "keep_alive must be a duration such as 5m or a number of seconds";
    if (ms < 0 || ms > parseDuration(limits.keepAlive)) body.keep_alive = limits.keepAlive;
  }
  return undefined;
}

function clampOpenAi(body: Json, generates: boolean, limits: InferenceLimits): string | undefined {
  let named = false;
  for (const key of ["max_tokens", "max_completion_tokens"]) {
    if (body[key] === undefined || body[key] === null) continue;
    const n = ceiling(body[key], limits.maxTokens, key);
    if (typeof n === "string") return n;
    body[key] = n;
    named = true;
  }
  if (generates && !named) body.max_tokens = limits.maxTokens;
  return undefined;
}

/**
 * A copy of `body` with its generation options at or below the node's limits (a generating request that sets no
 * token limit gets the node's), or why the options cannot be read.
 */
export function clampInferenceOptions(
  body: Json,
  route: Pick<InferenceRoute, "dialect" | "generates">,
  limits: InferenceLimits,
): Json | string {
  const copy = { ...body };
  const problem =
    route.dialect === "ollama"
      ? clampOllama(copy, route.generates, limits)
      : clampOpenAi(copy, route.generates, limits);
  return problem ?? copy;
}

/** The models a body names: Ollama's `model` and its older `name` (e.g. /api/show); OpenAI's `model`. */
function namedModels(body: Json, dialect: InferenceRoute["dialect"]): unknown[] {
  const keys = dialect === "ollama" ? ["model", "name"] : ["model"];
  return keys.filter((k) => body[k] !== undefined).map((k) => body[k]);
}

export type BodyPolicy = { allowedModels: readonly string[]; limits: InferenceLimits };

/** The body to forward on a model route (re-serialised), or the refusal: 400 unreadable, 403 a model not allowed. */
export function rewriteInferenceBody(
  raw: Uint8Array,
  route: InferenceRoute,
  policy: BodyPolicy,
): Uint8Array | BodyRefusal {
  const body = parseJsonObject(raw);
  if (typeof body === "string") return { status: 400, detail: body };
  const models = namedModels(body, route.dialect);
  if (models.length === 0) return { status: 400, detail: "the request must name a model" };
  for (const m of models) {
    if (typeof m !== "string" || m === "") return { status: 400, detail: "model must be a non-empty string" };
    if (!modelAllowed(m, policy.allowedModels)) {
      return { status: 403, detail: `model ${JSON.stringify(m)} is not allowed for this job` };
    }
  }
  const clamped = clampInferenceOptions(body, route, policy.limits);
  if (typeof clamped === "string") return { status: 400, detail: clamped };
  return Buffer.from(JSON.stringify(clamped));
}

/** An upstream model list (`/api/tags` or `/v1/models`) with only the allowed models, or undefined if unreadable. */
export function filterModelList(kind: "tags" | "models", text: string, allowed: readonly string[]): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const key = kind === "tags" ? "models" : "data";
  if (!isObject(value) || !Array.isArray(value[key])) return undefined;
  const nameOf = (m: unknown) => (isObject(m) ? (kind === "tags" ? (m.name ?? m.model) : m.id) : undefined);
  const kept = (value[key] as unknown[]).filter((m) => {
    const name = nameOf(m);
    return typeof name === "string" && modelAllowed(name, allowed);
  });
  return JSON.stringify({ ...value, [key]: kept });
}
