/**
 * The orchestrator's Prometheus metrics, one registry per instance (tests build several). Counts of tasks, jobs and
 * nodes are read from the database when scraped, so no code path has to remember to update them; the dispatcher and
 * the login handler each call one hook.
 */
import { Gauge, Registry } from "prom-client";
import { JOB_STATUSES, TASK_STATUSES } from "../contracts/user-api";
import { metricsOn } from "../lib/prometheus";
import type { Db } from "./db/connect";
import { nodesLastSeen } from "./db/nodes";
import { NODE_STATUSES } from "./db/schema";
import { countByStatus } from "./db/status-counts";
import { dbTaskStatus } from "./db/tasks";

export type OrchestratorMetrics = ReturnType<typeof createOrchestratorMetrics>;
/** What the login handler reports. */
export type LoginMetrics = Pick<OrchestratorMetrics, "loginFailed" | "handleLockedOut">;
/** What the dispatcher reports. */
export type DispatchMetrics = Pick<OrchestratorMetrics, "jobClaimed">;

type StatusCount<S extends string> = {
  table: "tasks" | "jobs" | "nodes";
  statuses: readonly S[];
  /** How a status is stored, when not as the metric names it. */
  stored?: (status: S) => string;
};

/** A gauge per status, every known status present (0 when none), filled from the database at scrape time. */
function statusGauge<S extends string>(registry: Registry, db: Db, name: string, help: string, of: StatusCount<S>) {
  return new Gauge({
    name,
    help,
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const counts = await countByStatus(db, of.table);
      for (const status of of.statuses) this.set({ status }, counts.get(of.stored?.(status) ?? status) ?? 0);
    },
  });
}

export function createOrchestratorMetrics(db: Db) {
  const registry = new Registry();
  const registers = [registry];
  // Tasks are `pending` in the database and `queued` in the API: the metric speaks the API's words.
  statusGauge(registry, db, "cynode_tasks", "Tasks by status", {
    table: "tasks",
    statuses: TASK_STATUSES,
    stored: dbTaskStatus,
  });
  statusGauge(registry, db, "cynode_jobs", "Jobs by status", { table: "jobs", statuses: JOB_STATUSES });
  statusGauge(registry, db, "cynode_nodes", "Registered worker nodes by status", {
    table: "nodes",
    statuses: NODE_STATUSES,
  });
  new Gauge({
    name: "cynode_queue_depth",
    help: "Jobs waiting for dispatch",
    registers,
    async collect() {
      this.set((await countByStatus(db, "jobs")).get("queued") ?? 0);
    },
  });
  new Gauge({
    name: "cynode_node_last_seen_timestamp_seconds",
    help: "When each node last reported to the control-plane (Unix time); alert on time() minus this",
    labelNames: ["node_slug"],
    registers,
    async collect() {
      const nodes = await nodesLastSeen(db);
      this.reset();
      for (const n of nodes) if (n.last_seen_at) this.set({ node_slug: n.node_slug }, n.last_seen_at.getTime() / 1000);
    },
  });
  const { counter, histogram } = metricsOn(registry);
  const dispatchLatency = histogram(
    "cynode_dispatch_latency_seconds",
    "From a job's creation to its claim for a node",
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  );
  const loginFailures = counter("cynode_login_failures_total", "Refused logins by reason", ["reason"]);
  const lockouts = counter("cynode_login_lockouts_total", "Handles locked out after consecutive login failures");
  return {
    registry,
    jobClaimed(createdAt: Date, claimedAt: Date): void {
      dispatchLatency.observe(Math.max(0, (claimedAt.getTime() - createdAt.getTime()) / 1000));
    },
    loginFailed(reason: string): void {
      loginFailures.inc({ reason: reason.replaceAll(" ", "_") });
    },
    handleLockedOut(): void {
      lockouts.inc();
    },
  };
}
