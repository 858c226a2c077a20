import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { containerName, WORKSPACE_DIR } from "./job-sandbox";
import { createSandboxRunner, type SandboxRunner } from "./run-job";
import { ensureSandboxImage, testPodman, testSettings, warmContainers } from "../../testing/sandbox-fixture";
import { createWarmPool } from "./warm-sandboxes";
import { until } from "../../testing/until";
import { recordingRunner } from "../telemetry/recorder";
import { openTelemetryStore } from "../telemetry/store";

// Real containers on a shared, busy host.
setDefaultTimeout(120_000);
const podman = testPodman();
const stopped: SandboxRunner[] = [];

beforeAll(() => ensureSandboxImage(podman));
afterEach(async () => {
  await Promise.all(stopped.splice(0).map((r) => r.stopAll()));
});

function sh(script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  const id = crypto.randomUUID();
  return { version: 1, task_id: `task-${id}`, job_id: id, sandbox: { command: ["sh", "-c", script], ...sandbox } };
}

async function warmRunner(warmPool: number) {
  const settings = await testSettings({ warmPool, maxDiskMb: 64 });
  const runner = createSandboxRunner({ podman, settings, log: memoryLogger() });
  stopped.push(runner);
  runner.warmUp();
  return { runner, settings };
}

/** Polls until `n` warm sandboxes wait. */
async function waitForWarm(runner: SandboxRunner, n: number): Promise<void> {
  await until(() => runner.warm("plain") >= n, `${n} warm sandboxes waiting`, { timeoutMs: 30_000, intervalMs: 50 });
}

/** The container a job ran in, from inside: its cgroup path names it. */
const WHO_AM_I = "grep -o '[0-9a-f]\\{64\\}' /proc/self/cgroup | head -1";

describe("warm single-use sandboxes (real podman)", () => {
  it("runs a job in a warm sandbox, removes that sandbox after, and refills the pool", async () => {
    const { runner, settings } = await warmRunner(1);
    await waitForWarm(runner, 1);
    const [before] = await warmContainers(podman, settings.nodeSlug);
    expect(runner.activeJobs).toBe(0);
    const res = await runner.run(sh(`${WHO_AM_I}; id -u; echo $CYNODE_WORKSPACE_DIR; pwd`));
    expect(res).toMatchObject({ status: "completed", exit_code: 0, stderr: "" });
    expect(res.stdout).toBe(`${before}\n0\n${WORKSPACE_DIR}\n${WORKSPACE_DIR}\n`);
    await waitForWarm(runner, 1);
    await until(
      async () => !(await warmContainers(podman, settings.nodeSlug)).includes(before!),
      "the used sandbox to be gone",
      {
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    expect(await warmContainers(podman, settings.nodeSlug)).toHaveLength(1);
  });

  it("never reuses one: job A's file, process and env value are invisible to job B", async () => {
    const { runner } = await warmRunner(2);
    await waitForWarm(runner, 2);
    const a = await runner.run(
      sh(`${WHO_AM_I}; echo a > /workspace/from-a; echo a > /tmp/from-a; (sleep 600 &) ; echo "secret=$SECRET_A"`, {
        env: { SECRET_A: "value-of-a" },
      }),
    );
    expect(a.stdout).toEndWith("secret=value-of-a\n");
    const b = await runner.run(
      sh(`${WHO_AM_I}; ls -A /workspace /tmp; ps -o args; env | grep -c value-of-a; echo "secret=$SECRET_A"`),
    );
    const [idA] = a.stdout.split("\n");
    const [idB, ...rest] = b.stdout.split("\n");
    expect(idB).not.toBe(idA);
    const out = rest.join("\n");
    expect(out).not.toContain("from-a");
    expect(out).not.toContain("sleep 600");
    expect(out).not.toContain("value-of-a");
    expect(out).toContain("\n0\nsecret=\n");
  });

  it("holds the job's timeout, cancels, and gives its warm sandbox to no restricted job", async () => {
    const { runner, settings } = await warmRunner(1);
    await waitForWarm(runner, 1);
    expect(await runner.run(sh("echo before; sleep 60", { timeout_seconds: 1 }))).toMatchObject({
      status: "timeout",
      stdout: "before\n",
    });
    await waitForWarm(runner, 1);
    const [waiting] = await warmContainers(podman, settings.nodeSlug);
    // Restricted jobs run in pods of their own; a node without pods refuses them, leaving the warm one waiting.
    await expect(runner.run(sh(WHO_AM_I, { network_policy: "restricted" }))).rejects.toThrow(
      'this node has no pods for network_policy "restricted"',
    );
    expect(await warmContainers(podman, settings.nodeSlug)).toEqual([waiting!]);
    const j = sh("sleep 60");
    const result = runner.run(j);
    await until(() => runner.warm("plain") === 0, "the job to take the warm sandbox");
    expect(await runner.cancel(j.job_id)).toBe(true);
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
  });

  it("removes its warm sandboxes on shutdown, and a restarted node reaps those a crash left", async () => {
    const { runner, settings } = await warmRunner(2);
    await waitForWarm(runner, 2);
    await runner.stopAll();
    expect(await warmContainers(podman, settings.nodeSlug)).toEqual([]);
    runner.warmUp();
    await waitForWarm(runner, 2);
    const left = await warmContainers(podman, settings.nodeSlug, "Names");
    expect(left).toHaveLength(2);
    // A new node process with the same slug: its start-up removes what the old one left.
    const next = createSandboxRunner({ podman, settings, log: memoryLogger() });
    expect(await next.removeLeftovers()).toEqual(expect.arrayContaining(left));
    for (const name of left) expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
  });
});

describe("finding a running warm-sandbox job (real podman)", () => {
  it("names a warm sandbox after the job it takes: `podman ps --filter name=<task id>` finds it while it runs", async () => {
    const { runner, settings } = await warmRunner(1);
    await waitForWarm(runner, 1);
    const [before] = await warmContainers(podman, settings.nodeSlug);
    const job = sh("echo running; exec sleep 60");
    // The node's telemetry store, fed as the node feeds it: it names the job's container as podman does.
    const store = openTelemetryStore(await mkdtemp(join(tmpdir(), "cynode-warm-telemetry-")));
    const deps = { store, nodeSlug: settings.nodeSlug, defaultImage: settings.defaultImage };
    const running = recordingRunner(runner, deps).run(job);
    const found = async (filter: string) =>
      (await podman.exec(["ps", "--no-trunc", "--format={{.ID}} {{.Names}}", `--filter=${filter}`])).stdout.trim();
    const name = containerName(job, settings.nodeSlug);
    await until(async () => (await found(`name=${job.task_id}`)) === `${before} ${name}`, "the renamed warm sandbox");
    expect(await found(`name=${job.job_id}`)).toBe(`${before} ${name}`);
    const [listed] = store.containers({ limit: 10, task_id: job.task_id }, 0).containers;
    expect(listed).toMatchObject({ container_id: name, status: "running", task_id: job.task_id, job_id: job.job_id });
    expect(await runner.cancel(job.job_id)).toBe(true);
    expect((await running).status).toBe("canceled");
    await until(async () => (await found(`name=${job.task_id}`)) === "", "the renamed sandbox's removal");
    expect(store.container(name)).toMatchObject({ status: "exited" });
    store.close();
  });
});

describe("createWarmPool", () => {
  it("keeps each kind full, gives each item out once, retries failed starts and disposes on stop", async () => {
    let n = 0;
    let fail = 1;
    const disposed: number[] = [];
    type Item = { id: number; died: Promise<unknown>; dispose(): Promise<void> };
    const deaths = new Map<number, () => void>();
    const log = memoryLogger();
    const pool = createWarmPool<"a", Item>({
      sizes: { a: 2 },
      log,
      retryMs: 10,
      maxIdleMs: 3_600_000,
      start: async () => {
        if (fail-- > 0) throw new Error("not yet");
        const id = ++n;
        const died = new Promise<void>((r) => deaths.set(id, r));
        return { id, died, dispose: async () => void disposed.push(id) };
      },
    });
    expect(pool.take("a")).toBeUndefined();
    pool.start();
    await until(() => pool.size("a") >= 2, "the pool to fill after its failed start", { intervalMs: 5 });
    expect(log.lines.filter((l) => l.msg === "warm sandbox could not be started; retrying later")).toHaveLength(1);
    const first = pool.take("a")!;
    const second = pool.take("a")!;
    expect(first.id).not.toBe(second.id);
    await until(() => pool.size("a") >= 2, "the pool to refill after two takes", { intervalMs: 5 });
    // One that dies while waiting is replaced.
    deaths.get(3)!();
    await until(() => disposed.includes(3), "the dead sandbox to be disposed", { intervalMs: 5 });
    await until(() => pool.size("a") >= 2, "the dead sandbox to be replaced", { intervalMs: 5 });
    await pool.stop();
    expect(pool.size("a")).toBe(0);
    expect(disposed.sort()).toEqual([3, 4, 5]);
  });

  it("replaces the ones that waited longer than their idle age, oldest first", async () => {
    let n = 0;
    const disposed: number[] = [];
    const log = memoryLogger();
    const pool = createWarmPool<"a", { id: number; died: Promise<unknown>; dispose(): Promise<void> }>({
      sizes: { a: 2 },
      log,
      maxIdleMs: 200,
      start: async () => {
        const id = ++n;
        return { id, died: new Promise(() => {}), dispose: async () => void disposed.push(id) };
      },
    });
    pool.start();
    try {
      await until(() => log.lines.some((l) => l.msg === "warm sandboxes recycled"), "a recycle");
      await until(() => pool.size("a") === 2 && n >= 4, "the pool refilled");
      // The first two were disposed of before any take, and what is taken now is a newer one.
      expect(disposed.slice(0, 2).sort()).toEqual([1, 2]);
      expect(pool.take("a")!.id).toBeGreaterThan(2);
    } finally {
      await pool.stop();
    }
  });
});
