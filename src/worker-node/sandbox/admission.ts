/**
 * What the sandbox runner accepts before anything is created: a safe job id, no job twice, free capacity, an
 * allowed image, an env podman cannot misread, a timeout within the node's and the orchestrator's bounds. A refusal
 * is a `SandboxRejection` naming its kind; the Worker API turns kinds into HTTP statuses.
 */
import type { RunJobRequest } from "../../contracts/worker-api";

/** Job ids become path segments and container names, so only a conservative alphabet is accepted. */
export const SAFE_JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type RejectionKind = "invalid" | "duplicate" | "full" | "internal";

export class SandboxRejection extends Error {
  constructor(
    readonly kind: RejectionKind,
    message: string,
  ) {
    super(message);
  }
}

export type AdmissionPolicy = {
  defaultImage: string;
  /** Empty = any image. */
  allowedImages: string[];
  maxConcurrency: number;
};

const RESERVED_ENV = ["CYNODE_TASK_ID", "CYNODE_JOB_ID", "CYNODE_WORKSPACE_DIR"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const WORKSPACE_DIR = "/workspace";

/** The image the job runs in, once the job is admitted. */
export function admit(job: RunJobRequest, policy: AdmissionPolicy, running: ReadonlySet<string>): string {
  jobEnv(job);
  if (!SAFE_JOB_ID.test(job.job_id))
    throw new SandboxRejection("invalid", "job_id may contain only letters, digits, '.', '_' and '-' (max 128)");
  if (running.has(job.job_id)) throw new SandboxRejection("duplicate", `job ${job.job_id} is already running`);
  if (running.size >= policy.maxConcurrency) throw new SandboxRejection("full", "sandbox capacity reached");
  const image = job.sandbox.image || policy.defaultImage;
  if (policy.allowedImages.length > 0 && !policy.allowedImages.includes(image))
    throw new SandboxRejection("invalid", `image not allowed by node policy: ${image}`);
  return image;
}

/** Request env minus the reserved names, plus the reserved values; anything podman could misread is refused. */
export function jobEnv(job: RunJobRequest, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.sandbox.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new SandboxRejection("invalid", `sandbox.env key is not a valid variable name: ${k}`);
    if (v.includes("\0")) throw new SandboxRejection("invalid", `sandbox.env value contains a NUL byte: ${k}`);
    if (!RESERVED_ENV.includes(k)) env[k] = v;
  }
  return {
    ...env,
    ...extra,
    CYNODE_TASK_ID: job.task_id,
    CYNODE_JOB_ID: job.job_id,
    CYNODE_WORKSPACE_DIR: WORKSPACE_DIR,
  };
}

export type Timeouts = { defaultSeconds: number; maxSeconds: number };

/** min(requested or node default, node max), further capped by the orchestrator's constraint. */
export function effectiveTimeoutSeconds(requested: number | undefined, timeouts: Timeouts, cap?: number): number {
  const t = Math.min(requested ?? timeouts.defaultSeconds, timeouts.maxSeconds);
  return cap && cap > 0 ? Math.min(t, cap) : t;
}
