/**
 * The node's Prometheus metrics, one registry per node. The Worker API's jobs:run handler reports each sandbox run,
 * the inference relay each request and its bytes; the warm-pool size is read from a function at scrape time.
 */
import { Gauge, Registry } from "prom-client";
import { RUN_STATUSES } from "../contracts/worker-api";
import { metricsOn } from "../lib/prometheus";

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
/** What the inference relay reports. */
export type InferenceMetrics = Pick<NodeMetrics, "inferenceRequest" | "inferenceBytes">;

/** A run's outcome: the job status it answered with, or `error` when the runner itself failed. */
const OUTCOMES = [...RUN_STATUSES, "error"] as const;
const DIRECTIONS = ["request", "response"] as const;

export function createNodeMetrics(opts: { warmPoolSize?: () => number } = {}) {
  const registry = new Registry();
  const { counter, histogram } = metricsOn(registry);
  const runs = counter("cynode_sandbox_runs_total", "Sandbox runs by outcome", ["outcome"]);
  const duration = histogram(
    "cynode_sandbox_run_duration_seconds",
    "Wall time of a sandbox run (any outcome), from the Worker API's point of view",
    [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  );
  new Gauge({
    name: "cynode_sandbox_warm_pool_size",
    help: "Sandboxes started ahead of jobs, ready to take one",
    registers: [registry],
    collect() {
      this.set(opts.warmPoolSize?.() ?? 0);
    },
  });
  const requests = counter(
    "cynode_inference_requests_total",
    "Requests relayed from inference sidecars to the model server",
  );
  const bytes = counter(
    "cynode_inference_bytes_total",
    "Bytes relayed to (request) and from (response) the model server",
    ["direction"],
  );
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
