/**
 * The `inference_backend` a node is told to run, derived from its latest capability report
 * (reference-contracts 2.4: spec's first-match rules, code's variant, context size and model tiers).
 */
import type { InferenceBackend, NodeCapabilityReport } from "../../contracts/node-payloads";

export const OLLAMA_PORT = 11434;
const CPU_CONTEXT = 8192;
const MAX_CONTEXT = 40960;

type Gpu = NonNullable<NonNullable<NodeCapabilityReport["gpu"]>["devices"]>[number];

export function gpuVariant(devices: Gpu[]): "cpu" | "cuda" | "rocm" {
  const has = (feature: string, vendor: RegExp) =>
    devices.some((d) => d.features?.[feature] !== undefined || vendor.test(d.vendor ?? ""));
  if (has("rocm_version", /amd/i)) return "rocm";
  if (has("cuda_capability", /nvidia/i)) return "cuda";
  return "cpu";
}

/** 40 % of VRAM at ~50 MB per 1k tokens, rounded down to a power of two, within 8192..40960. */
export function contextSize(variant: string, vramMb: number): number {
  if (variant === "cpu" || vramMb <= 0) return CPU_CONTEXT;
  const tokens = Math.floor((vramMb * 0.4) / 50) * 1024;
  const pow2 = tokens > 0 ? 2 ** Math.floor(Math.log2(tokens)) : 0;
  return Math.min(MAX_CONTEXT, Math.max(CPU_CONTEXT, pow2));
}

export function modelForVram(vramMb: number): string {
  if (vramMb >= 24000) return "qwen3.5:35b";
  if (vramMb >= 8000) return "qwen3.5:9b";
  if (vramMb > 0) return "qwen3:8b";
  return "qwen3.5:0.8b";
}

/** Undefined unless the node says it can run inference; `enabled` only when the node should start Ollama itself. */
export function deriveInferenceBackend(
  report: NodeCapabilityReport | undefined,
  opts: { model?: string } = {},
): InferenceBackend | undefined {
  const inference = report?.inference;
  if (!report || inference?.supported !== true) return undefined;
  const devices = report.gpu?.present === false ? [] : (report.gpu?.devices ?? []);
  const variant = gpuVariant(devices);
  const vram = Math.max(0, ...devices.map((d) => d.vram_mb ?? 0));
  const enabled =
    inference.existing_service !== true &&
    inference.mode !== "disabled" &&
    !report.node.labels?.includes("sandbox_only");
  const ctx = String(contextSize(variant, vram));
  return {
    enabled,
    variant,
    port: OLLAMA_PORT,
    env: { OLLAMA_CONTEXT_LENGTH: ctx, OLLAMA_NUM_CTX: ctx },
    selected_model: opts.model || modelForVram(vram),
  };
}
