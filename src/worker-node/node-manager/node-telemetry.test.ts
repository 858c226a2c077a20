import { describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { memoryLogger } from "../../lib/log";
import { testNodeConfig } from "../../testing/node-config";
import { openNodeTelemetry } from "./node-telemetry";

const now = () => new Date("2026-03-01T10:00:00Z");

describe("openNodeTelemetry", () => {
  it("records the boot and keeps every line of the node's logger, which still writes to its own", async () => {
    const config = await testNodeConfig({ env: { NODE_SLUG: "tel-node" } });
    const own = memoryLogger("node");
    const telemetry = await openNodeTelemetry(config, own, now);
    telemetry.log.child({ part: "worker-api" }).info("listening");
    telemetry.log.warn("inference unavailable on this node");
    const query = { source_kind: "service" as const, limit: 10 };
    const names = (source_name: string) =>
      telemetry.store.logs({ ...query, source_name }, 0).events.map((e) => e.message);
    expect(names("worker_api")).toEqual(["listening"]);
    expect(names("node_manager")).toEqual(["inference unavailable on this node"]);
    expect(own.lines.map((l) => l.msg)).toEqual(["listening", "inference unavailable on this node"]);
    telemetry.close();
    const raw = new Database(join(config.storage.state_dir, "telemetry", "telemetry.db"));
    expect(raw.query("SELECT node_slug FROM node_boot").all()).toEqual([{ node_slug: "tel-node" }]);
    raw.close();
  });

  it("runs retention hourly and VACUUM daily until closed", async () => {
    const telemetry = await openNodeTelemetry(await testNodeConfig(), memoryLogger(), now);
    const timers: { ms: number; fn: () => void; stopped: boolean }[] = [];
    telemetry.startUpkeep((ms, fn) => {
      const timer = { ms, fn, stopped: false };
      timers.push(timer);
      return () => void (timer.stopped = true);
    });
    expect(timers.map((t) => t.ms)).toEqual([3_600_000, 86_400_000]);
    for (const t of timers) t.fn();
    telemetry.close();
    expect(timers.every((t) => t.stopped)).toBe(true);
  });

  it("refuses a state dir it cannot write", async () => {
    const config = await testNodeConfig({ env: { CYNODE_STATE_DIR: "/proc/cynode-state" } });
    await expect(openNodeTelemetry(config, memoryLogger(), now)).rejects.toThrow(
      "state dir /proc/cynode-state is not writable",
    );
  });
});
