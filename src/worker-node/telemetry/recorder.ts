/**
 * What feeds the telemetry store: the node's own log lines (redacted by the logger, as on stderr) and each job's
 * sandbox container — its lifecycle and its stdout/stderr lines — recorded around the runner, so the sandbox code
 * is unchanged.
 */
import type { RunJobRequest, RunJobResponse } from "../../contracts/worker-api";
import { createLogger, type LogFields, type Logger } from "../../lib/log";
import { rfc3339 } from "../../lib/rfc3339";
import { type SandboxRunner } from "../sandbox/run-job";
import { containerName, NODE_LABEL } from "../sandbox/job-sandbox";
import type { ContainerRecord, TelemetryStore } from "./store";

/** Log lines kept per stream of one job (the job result keeps the whole output). */
export const MAX_JOB_LOG_LINES = 2000;

/** Both loggers get every line; children stay paired. */
export function teeLogger(a: Logger, b: Logger): Logger {
  const both =
    (level: "debug" | "info" | "warn" | "error") =>
    (msg: string, fields?: LogFields): void => {
      a[level](msg, fields);
      b[level](msg, fields);
    };
  return {
    debug: both("debug"),
    info: both("info"),
    warn: both("warn"),
    error: both("error"),
    child: (fields) => teeLogger(a.child(fields), b.child(fields)),
  };
}

/** A logger writing service log events: the Worker API's lines as `worker_api`, the rest as `node_manager`. */
export function storeLogger(store: TelemetryStore, now: () => Date = () => new Date()): Logger {
  return createLogger({
    name: "worker-node",
    level: "info",
    now,
    write(line) {
      const { time, level, msg, component: _c, ...fields } = JSON.parse(line) as LogFields;
      store.appendLog({
        occurred_at: String(time),
        source_kind: "service",
        source_name: fields.part === "worker-api" ? "worker_api" : "node_manager",
        level: String(level),
        message: String(msg),
        fields,
      });
    },
  });
}

function logLines(store: TelemetryStore, id: string, stream: "stdout" | "stderr", text: string, at: string) {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const message of lines.slice(0, MAX_JOB_LOG_LINES))
    store.appendLog({
      occurred_at: at,
      source_kind: "container",
      source_name: id,
      container_id: id,
      stream,
      message,
      fields: {},
    });
}

export type JobRecorderDeps = {
  store: TelemetryStore;
  nodeSlug: string;
  defaultImage: string;
  now?: () => Date;
};

/** The runner, with each job's sandbox container recorded in the telemetry store. */
export function recordingRunner<R extends Pick<SandboxRunner, "run">>(runner: R, deps: JobRecorderDeps): R {
  const now = deps.now ?? (() => new Date());
  const record = (job: RunJobRequest, started: string, status: string, action: string, exit?: number) => {
    const id = containerName(job, deps.nodeSlug);
    const c: ContainerRecord = {
      container_id: id,
      container_name: id,
      kind: "sandbox",
      runtime: "podman",
      image_ref: job.sandbox.image || deps.defaultImage,
      created_at: started,
      last_seen_at: rfc3339(now()),
      status,
      ...(exit !== undefined ? { exit_code: exit } : {}),
      task_id: job.task_id,
      job_id: job.job_id,
      labels: { "cynodeai.task_id": job.task_id, "cynodeai.job_id": job.job_id, [NODE_LABEL]: deps.nodeSlug },
    };
    deps.store.recordContainer(c, action);
    return id;
  };
  const run = async (job: RunJobRequest): Promise<RunJobResponse> => {
    const started = rfc3339(now());
    record(job, started, "running", "started");
    let res: RunJobResponse | undefined;
    try {
      res = await runner.run(job);
      return res;
    } finally {
      const id = record(job, started, "exited", "removed", res?.exit_code);
      if (res) {
        logLines(deps.store, id, "stdout", res.stdout, res.ended_at);
        logLines(deps.store, id, "stderr", res.stderr, res.ended_at);
      }
    }
  };
  return { ...runner, run };
}
