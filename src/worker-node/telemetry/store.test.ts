import { afterEach, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOGS_MAX_BYTES } from "../../contracts/telemetry";
import { pageOffset } from "./page-token";
import { openTelemetryStore, RETENTION, type ContainerRecord, type TelemetryStore } from "./store";

let dir: string;
let store: TelemetryStore;
let clock = new Date("2026-01-10T00:00:00Z");

async function open() {
  dir = await mkdtemp(join(tmpdir(), "cynode-telemetry-"));
  store = openTelemetryStore(dir, { now: () => clock });
  return store;
}
afterEach(async () => {
  store?.close();
  await rm(dir, { recursive: true, force: true });
});

const container = (id: string, over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  container_id: id,
  container_name: id,
  kind: "sandbox",
  runtime: "podman",
  image_ref: "img",
  created_at: "2026-01-01T00:00:00Z",
  last_seen_at: "2026-01-01T00:00:00Z",
  status: "exited",
  labels: {},
  ...over,
});

const log = (at: string, message: string, source_name = "node_manager") =>
  store.appendLog({ occurred_at: at, source_kind: "service", source_name, message, fields: { n: 1 } });

describe("telemetry store: schema and queries", () => {
  it("creates the reference's schema v1 in WAL mode under <state_dir>/telemetry", async () => {
    await open();
    const raw = new Database(join(dir, "telemetry", "telemetry.db"));
    expect(raw.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(raw.query("SELECT id, version FROM schema_version").all()).toEqual([{ id: 1, version: 1 }]);
    const tables = raw.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual([
      "container_event",
      "container_inventory",
      "log_event",
      "node_boot",
      "schema_version",
    ]);
    raw.close();
  });

  it("pages containers with filters and opaque tokens, newest first", async () => {
    await open();
    for (let i = 0; i < 5; i++)
      store.recordContainer(
        container(`c${i}`, { last_seen_at: `2026-01-0${i + 1}T00:00:00Z`, kind: i === 4 ? "managed" : "sandbox" }),
        "started",
      );
    const first = store.containers({ limit: 2, kind: "sandbox" }, 0);
    expect(first.containers.map((c) => c.container_id)).toEqual(["c3", "c2"]);
    const second = store.containers({ limit: 2, kind: "sandbox" }, pageOffset(first.next)!);
    expect([second.containers.map((c) => c.container_id), second.next]).toEqual([["c1", "c0"], undefined]);
    store.recordContainer(container("c1", { status: "running", exit_code: 3, task_id: "t", job_id: "j" }), "stopped");
    expect(store.container("c1")).toMatchObject({ status: "running", exit_code: 3 });
    expect(store.container("nope")).toBeUndefined();
    expect([
      pageOffset("garbage!"),
      pageOffset(undefined),
      pageOffset(Buffer.from('{"o":-1}').toString("base64url")),
    ]).toEqual([undefined, 0, undefined]);
  });

  it("cuts log queries at the limit (count) and at 1 MiB (bytes), with a token for the rest", async () => {
    await open();
    for (let i = 0; i < 5; i++) log(`2026-01-01T00:00:0${i}.000Z`, `m${i}`);
    log("2026-01-01T00:00:09.000Z", "other", "worker_api");
    const q = { source_kind: "service" as const, source_name: "node_manager" };
    const page = store.logs({ ...q, limit: 3 }, 0);
    expect([page.events.map((e) => e.message), page.truncated.limited_by]).toEqual([["m0", "m1", "m2"], "count"]);
    const rest = store.logs({ ...q, limit: 3 }, pageOffset(page.next_page_token)!);
    expect([rest.events.map((e) => e.message), rest.truncated, rest.next_page_token]).toEqual([
      ["m3", "m4"],
      { limited_by: "none", max_bytes: LOGS_MAX_BYTES },
      undefined,
    ]);
    const window = store.logs({ ...q, limit: 10, since: "2026-01-01T00:00:01Z", until: "2026-01-01T00:00:03Z" }, 0);
    expect(window.events.map((e) => e.message)).toEqual(["m1", "m2"]);
    const big = "x".repeat(300_000);
    for (let i = 0; i < 5; i++) log(`2026-01-02T00:00:0${i}.000Z`, big, "big");
    const cut = store.logs({ source_kind: "service", source_name: "big", limit: 5000 }, 0);
    expect([cut.events.length, cut.truncated.limited_by]).toEqual([3, "bytes"]);
    expect(JSON.stringify({ version: 1, ...cut }).length).toBeLessThanOrEqual(LOGS_MAX_BYTES);
    expect(store.logs({ source_kind: "service", source_name: "big", limit: 5000 }, 3).events.length).toBe(2);
  });
});

describe("telemetry store: retention and boots", () => {
  it("drops logs past 7 days, events and stopped inventory past 30 days, and keeps running containers", async () => {
    await open();
    clock = new Date("2026-03-01T00:00:00Z");
    const days = (n: number) => new Date(clock.getTime() - n * 86_400_000).toISOString();
    log(days(8), "old");
    log(days(1), "new");
    store.recordContainer(container("gone", { last_seen_at: days(31) }), "removed");
    store.recordContainer(container("alive", { last_seen_at: days(31), status: "running" }), "started");
    store.recordContainer(container("recent", { last_seen_at: days(2) }), "stopped");
    expect(store.enforceRetention()).toBe(4);
    const q = { source_kind: "service" as const, source_name: "node_manager", limit: 10 };
    expect(store.logs(q, 0).events.map((e) => e.message)).toEqual(["new"]);
    expect(
      store
        .containers({ limit: 10 }, 0)
        .containers.map((c) => c.container_id)
        .sort(),
    ).toEqual(["alive", "recent"]);
    store.vacuum();
    expect(RETENTION.maxLogRows).toBeGreaterThan(0);
  });

  it("records boots", async () => {
    await open();
    store.recordBoot({
      node_slug: "n",
      build_version: "1",
      git_sha: "dev",
      os: "linux",
      arch: "amd64",
      kernel_version: "6",
    });
    store.close();
    const raw = new Database(join(dir, "telemetry", "telemetry.db"));
    expect(raw.query("SELECT node_slug, git_sha FROM node_boot").all()).toEqual([{ node_slug: "n", git_sha: "dev" }]);
    raw.close();
    store = openTelemetryStore(dir);
  });
});
