/**
 * The node's telemetry store for the Worker Telemetry API, opened first so every later line is kept: the boot is
 * recorded, the node's logger also writes to the store, and retention runs at start, hourly, with a daily VACUUM.
 */
import type { Logger } from "../../lib/log";
import type { NodeConfig } from "../config";
import { nodeInfo } from "../telemetry/node-facts";
import { storeLogger, teeLogger } from "../telemetry/recorder";
import { openTelemetryStore, type TelemetryStore } from "../telemetry/store";
import type { Every } from "./node-context";
import { ensureWritableDir } from "./writable-dir";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type NodeTelemetry = {
  store: TelemetryStore;
  /** The node's logger: every line goes to the given logger and to the store. */
  log: Logger;
  /** Hourly retention and the daily VACUUM, until `close`. */
  startUpkeep(every: Every): void;
  close(): void;
};

export async function openNodeTelemetry(config: NodeConfig, log: Logger, now: () => Date): Promise<NodeTelemetry> {
  await ensureWritableDir(config.storage.state_dir, "state dir");
  const store = openTelemetryStore(config.storage.state_dir, { now });
  const { build, platform } = nodeInfo(config.node.id, undefined);
  store.recordBoot({ node_slug: config.node.id, ...build, ...platform });
  store.enforceRetention();
  let timers: (() => void)[] = [];
  return {
    store,
    log: teeLogger(log, storeLogger(store, now)),
    startUpkeep(every) {
      timers = [every(HOUR_MS, () => store.enforceRetention()), every(DAY_MS, () => store.vacuum())];
    },
    close() {
      for (const stop of timers) stop();
      store.close();
    },
  };
}
