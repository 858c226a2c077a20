/**
 * The node's Prometheus metrics, one registry per node. The Worker API's jobs:run handler reports each sandbox run,
 * the inference relay each request and its bytes; the warm-pool size is read from a function at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { RUN_STATUSES } from "../contracts/worker-api";

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
/** What the inference relay reports. */
export type InferenceMetrics = Pick<NodeMetrics, "inferenceRequest" | "inferenceBytes">;

/** A run's outcome: the job status it answered with, or `error` when the runner itself failed. */
const OUTCOMES = [...RUN_STATUSES, "error"] as const;
const DIRECTIONS = ["request", "response"] as const;

export function createNodeMetrics(opts: { warmPoolSize?: () => number } = {}) {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({
    name: "cynode_sandbox_runs_total",
    help: "Sandbox runs by outcome",
    labelNames: ["outcome"],
    registers,
  });
  const duration = new Histogram({
    name: "cynode_sandbox_run_duration_seconds",
    help: "Wall time of a sandbox run (any outcome), from the Worker API's point of view",
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  new Gauge({
    name: "cynode_sandbox_warm_pool_size",
    help: "Sandboxes started ahead of jobs, ready to take one",
    registers,
    collect() {
      this.set(opts.warmPoolSize?.() ?? 0);
    },
  });
  const requests = new Counter({
    name: "cynode_inference_requests_total",
    help: "Requests relayed from inference sidecars to the model server",
    registers,
  });
  const bytes = new Counter({
    name: "cynode_inference_bytes_total",
    help: "Bytes relayed to (request) and from (response) the model server",
    labelNames: ["direction"],
    registers,
  });
  for (const outcome of OUTCOMES) runs.inc({ outcome }, 0);
  for (const direction of DIRECTIONS) bytes.inc({ direction }, 0);
  return {
    registry,
    /** Starts timing a run; call the result with its outcome. */
    runStarted(): (outcome: (typeof OUTCOMES)[number]) => void {
      const end = duration.startTimer();
      return (outcome) => {
        runs.inc({ outcome });
        end();
      };
    },
    inferenceRequest(): void {
      requests.inc();
    },
    inferenceBytes(direction: (typeof DIRECTIONS)[number], n: number): void {
      bytes.inc({ direction }, n);
    },
  };
}
