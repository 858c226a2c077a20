/**
 * What every start-up part shares: the node's config, its logger and clock, and the state start-up learns as it
 * goes, shared by reference — the Worker API reads readiness, the bearer token and limits from it, the runner its
 * job timeout cap, `node:info` the last capability report.
 */
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Logger } from "../../lib/log";
import type { NodeConfig } from "../config";
import type { AppliedConfig } from "./apply-config";

export type NodeState = {
  /** null when ready, else the reason `/readyz` gives. */
  notReady: string | null;
  /** The orchestrator's config as the node applied it; undefined until then, so jobs are refused. */
  applied?: AppliedConfig;
  lastReport?: NodeCapabilityReport;
};

export type NodeContext = { config: NodeConfig; state: NodeState; log: Logger; now: () => Date };

/** Runs `fn` every `ms`; returns a stop function. */
export type Every = (ms: number, fn: () => void) => () => void;

export const everyInterval: Every = (ms, fn) => {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
};
