/**
 * One job on one node: a Worker API call whose answer becomes the job's result. A failed connection marks the node
 * suspect and sends the job back to the queue for another node (decision 13); a call dropped because the node
 * stopped reporting does the same. One log line per dispatch, whatever the outcome.
 */
import { jobErrorResult } from "../../contracts/job-result";
import {
  PROMPT_MODEL_ENV,
  type RunJobRequest,
  type RunJobResponse,
  type SandboxSpec,
} from "../../contracts/worker-api";
import type { Logger } from "../../lib/log";
import type { SecretBox } from "../auth/secret-box";
import type { Db } from "../db/connect";
import { finishJob, requeueLostJob, type DispatchJob } from "../db/job-queue";
import { markNodeSuspect } from "../db/nodes";
import { agentAllowedModels } from "../tasks/agent-job";
import { listTaskFiles } from "../db/task-files";
import type { Slot } from "./fill-slots";
import { runJobOnWorker } from "./worker-client";

export type RunContext = {
  db: Db;
  secrets: SecretBox;
  log: Logger;
  now: () => Date;
  fetch?: typeof fetch;
  /** Job timeout assumed when the payload names none (the worker's default). */
  defaultJobTimeoutSeconds: number;
  /** How much longer than the job timeout the Worker API call may take before the worker counts as lost. */
  httpGraceMs: number;
  /** Upper bound on one Worker API call whatever the job timeout. */
  maxHttpTimeoutMs: number;
};

/** Abort reason of a call to a node that stopped reporting: its job goes back to the queue. */
export const NODE_LOST = "node lost: capability reports stopped";

/** What a dispatch ended as (the log line's `status`). */
type DispatchStatus = "completed" | "failed" | "discarded" | "requeued" | "not_held" | "abandoned" | "error";

export async function runOnNode(
  ctx: RunContext,
  job: DispatchJob,
  node: Slot,
  leaseId: string,
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  const fields: Record<string, unknown> = {
    task_id: job.task_id,
    job_id: job.id,
    node_id: node.id,
    node_slug: node.slug,
  };
  let status: DispatchStatus;
  try {
    status = await dispatch(ctx, job, node, leaseId, signal, fields);
  } catch (err) {
    // The lease is no longer renewed, so the reaper takes the job back.
    fields.error = err instanceof Error ? err.message : String(err);
    status = "error";
  }
  ctx.log.info("dispatch", { ...fields, status, duration_ms: Math.round(performance.now() - started) });
}

/**
 * The models a job may ask (decision 24): an agent job those its spec allows; a prompt job exactly the one it names;
 * any other inference job the node's default models (no `inference` field).
 */
export function jobInference(spec: SandboxSpec): Pick<RunJobRequest, "inference"> {
  if (spec.job_spec_json !== undefined) {
    const models = agentAllowedModels(spec);
    return models.length ? { inference: { allowed_models: models } } : {};
  }
  const model = spec.use_inference ? spec.env?.[PROMPT_MODEL_ENV] : undefined;
  return model ? { inference: { allowed_models: [model] } } : {};
}

/**
 * The result as stored: the worker's text verbatim, except that an agent job's blank stdout becomes its final answer
 * (reference-agents 1.9), so `task result` and the logs show the answer.
 */
export function storedResult(response: RunJobResponse, body: string): string {
  const answer = response.sba_result?.final_answer;
  if (response.stdout.trim() !== "" || !answer) return body;
  return JSON.stringify({ ...(JSON.parse(body) as Record<string, unknown>), stdout: answer });
}

/** The task's uploaded attachments, by name and digest (none: no field, as before). */
export async function jobAttachments(db: Db, taskId: string): Promise<Pick<RunJobRequest, "attachments">> {
  const files = await listTaskFiles(db, taskId, "attachment");
  return files.length
    ? { attachments: files.map(({ name, size_bytes, sha256 }) => ({ name, size_bytes, sha256 })) }
    : {};
}

/** Runs the job and stores what came of it; `fields` gathers what the log line says about it. */
async function dispatch(
  ctx: RunContext,
  job: DispatchJob,
  node: Slot,
  leaseId: string,
  signal: AbortSignal,
  fields: Record<string, unknown>,
): Promise<DispatchStatus> {
  const finish = async (status: "completed" | "failed", result: string) =>
    (await finishJob(ctx.db, { jobId: job.id, leaseId, status, result, now: ctx.now() })) ? status : "discarded";
  const requeue = () => requeueLostJob(ctx.db, { jobId: job.id, leaseId, nodeId: node.id, now: ctx.now() });
  if ("error" in job.payload) {
    fields.error = job.payload.error;
    return finish("failed", jobErrorResult(job.payload.error));
  }
  const { spec } = job.payload;
  const timeoutSeconds = spec.timeout_seconds ?? ctx.defaultJobTimeoutSeconds;
  const outcome = await runJobOnWorker(
    { baseUrl: node.url, token: ctx.secrets.open(node.sealedToken) },
    {
      version: 1,
      task_id: job.task_id,
      job_id: job.id,
      sandbox: spec,
      ...jobInference(spec),
      ...(await jobAttachments(ctx.db, job.task_id)),
    },
    {
      timeoutMs: Math.min(timeoutSeconds * 1000 + ctx.httpGraceMs, ctx.maxHttpTimeoutMs),
      // A refused connection is not retried here: the node turns suspect and the job goes to another one.
      attempts: 1,
      fetch: ctx.fetch,
      signal,
    },
  );
  if (signal.aborted) {
    fields.error = signal.reason === NODE_LOST ? NODE_LOST : undefined;
    return signal.reason === NODE_LOST ? requeue() : "abandoned";
  }
  if (outcome.kind === "answered") {
    fields.worker_status = outcome.response.status;
    fields.exit_code = outcome.response.exit_code;
    const result = storedResult(outcome.response, outcome.body);
    return finish(outcome.response.status === "completed" ? "completed" : "failed", result);
  }
  fields.error = outcome.error;
  if (outcome.kind === "rejected") return finish("failed", jobErrorResult(outcome.error));
  await markNodeSuspect(ctx.db, node.id, ctx.now());
  return requeue();
}
