import { describe, expect, it } from "bun:test";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDeadlineKeeper, uptimeSeconds } from "./deadline-keeper";
import { ensureSandboxImage, SANDBOX_IMAGE, startedSignal, testPodman } from "../../testing/sandbox-fixture";
import { ensureProxyImage } from "../../testing/inference-runner";
import { until } from "../../testing/until";

const podman = testPodman();

/** Names of the containers and pods labelled with this node that exist now. */
async function nodeLeftovers(nodeSlug: string): Promise<string[]> {
  const label = `--filter=label=cynodeai.node=${nodeSlug}`;
  const pods = await podman.exec(["pod", "ps", "--format={{.Name}}", label]);
  const containers = await podman.exec(["ps", "--all", "--format={{.Names}}", label]);
  return (pods.stdout + containers.stdout).split("\n").filter(Boolean);
}

const keeperRuns = (dir: string) => Bun.spawnSync(["pgrep", "-f", `deadline-keeper ${dir} `]).exitCode === 0;

describe("the deadline keeper (real podman)", () => {
  it("removes a container at its deadline, and exits once no entry is left", async () => {
    await ensureSandboxImage(podman);
    const dir = join(await mkdtemp(join(tmpdir(), "cynode-keeper-")), ".deadlines");
    const keeper = createDeadlineKeeper({ dir, podman: podman.command });
    const name = `cynode-keeper-test-${crypto.randomUUID().slice(0, 8)}`;
    const run = await podman.exec(["run", "-d", "--rm", `--name=${name}`, SANDBOX_IMAGE, "sleep", "600"]);
    expect(run.exitCode).toBe(0);
    const held = uptimeSeconds();
    await keeper.hold({ container: name, seconds: 2 });
    expect(keeperRuns(dir)).toBe(true);
    const exists = async () => (await podman.exec(["container", "exists", name])).exitCode === 0;
    await until(async () => !(await exists()), `${name} to be removed`, { timeoutMs: 15_000 });
    expect(uptimeSeconds() - held).toBeGreaterThanOrEqual(2);
    await until(async () => !keeperRuns(dir), "the keeper to exit", { timeoutMs: 5_000 });
    expect(await readdir(dir)).not.toContain(name);
  }, 30_000);

  it("removes a sandbox still waiting for its job as soon as its owner is gone", async () => {
    await ensureSandboxImage(podman);
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const dir = join(await mkdtemp(join(tmpdir(), "cynode-keeper-")), ".deadlines");
    const keeper = createDeadlineKeeper({ dir, podman: podman.command, pid: dead.pid });
    const name = `cynode-keeper-test-${crypto.randomUUID().slice(0, 8)}`;
    expect((await podman.exec(["run", "-d", "--rm", `--name=${name}`, SANDBOX_IMAGE, "sleep", "600"])).exitCode).toBe(
      0,
    );
    await keeper.hold({ container: name, seconds: 600, idle: true });
    expect(await Bun.file(join(dir, name)).text()).toEndWith(` ${dead.pid}\n`);
    const exists = async () => (await podman.exec(["container", "exists", name])).exitCode === 0;
    await until(async () => !(await exists()), `${name} to be removed`, { timeoutMs: 15_000 });
  }, 30_000);

  it("forgets a released entry, and refuses a name that could leave its directory", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "cynode-keeper-")), ".deadlines");
    const keeper = createDeadlineKeeper({ dir, podman: podman.command });
    await keeper.hold({ container: "gone-anyway", pod: "its-pod", seconds: 600 });
    expect(await Bun.file(join(dir, "gone-anyway")).text()).toMatch(/^\d+ gone-anyway its-pod -\n$/);
    await keeper.release("gone-anyway");
    expect(await readdir(dir)).not.toContain("gone-anyway");
    await until(async () => !keeperRuns(dir), "the keeper to exit", { timeoutMs: 5_000 });
    await expect(keeper.hold({ container: "../escape", seconds: 1 })).rejects.toThrow("unsafe container name");
    await expect(keeper.hold({ container: ".hidden", seconds: 1 })).rejects.toThrow("unsafe container name");
  }, 30_000);
});

/** The container (and its pod) that runs a host process, found from the process's cgroup. */
async function sandboxOf(argv: string[]): Promise<{ id: string; pod: string }> {
  const want = `${argv.join("\0")}\0`;
  for (const pid of await readdir("/proc")) {
    const cmdline = await Bun.file(`/proc/${pid}/cmdline`)
      .text()
      .catch(() => "");
    if (cmdline !== want) continue;
    // The container's id is the last in the path (a pod's own cgroup comes before it).
    const id = (await Bun.file(`/proc/${pid}/cgroup`).text()).match(/[0-9a-f]{64}/g)!.at(-1)!;
    const pod = (await podman.exec(["inspect", "--format={{.Pod}}", id])).stdout.trim();
    return { id, pod };
  }
  throw new Error(`no process runs ${argv.join(" ")}`);
}

const exists = async (kind: "container" | "pod", id: string) =>
  !!id && (await podman.exec([kind, "exists", id])).exitCode === 0;

/**
 * The hostile job of issue 21: it kills every other process of its sandbox (the launcher's watchdog among them),
 * then its worker dies by SIGKILL. Its sandbox (and pod) must still be gone by its timeout + 10 s, in each kind of
 * sandbox. (Warm sandboxes the pool started meanwhile are bounded by their idle age instead.)
 */
describe("a job that kills its watchdog, whose worker is killed (real podman)", () => {
  const TIMEOUT_SECONDS = 5;
  it.each(["cold", "warm", "pod", "warm-pod"])(
    "is gone within its timeout + 10 s: %s sandbox",
    async (place) => {
      await ensureSandboxImage(podman);
      if (place.endsWith("pod")) await ensureProxyImage(podman);
      const started = startedSignal(600);
      const script = `kill -KILL -1; ${started.command}`;
      const worker = Bun.spawn(
        ["bun", join(import.meta.dir, "../../testing/doomed-worker.ts"), place, script, String(TIMEOUT_SECONDS)],
        { stdout: "pipe", stderr: "inherit" },
      );
      const slug = (await worker.stdout.pipeThrough(new TextDecoderStream()).getReader().read()).value!.trim();
      try {
        await started.seen();
        const since = Date.now();
        const sandbox = await sandboxOf(started.command.split(" "));
        expect(!!sandbox.pod).toBe(place.endsWith("pod"));
        worker.kill("SIGKILL");
        await worker.exited;
        const gone = async () => !(await exists("container", sandbox.id)) && !(await exists("pod", sandbox.pod));
        await until(gone, `the ${place} sandbox to be gone`, { timeoutMs: 30_000 });
        expect(Date.now() - since).toBeLessThanOrEqual((TIMEOUT_SECONDS + 10) * 1000);
      } finally {
        worker.kill("SIGKILL");
        const left = await nodeLeftovers(slug);
        if (left.length) await podman.exec(["pod", "rm", "-f", "-t", "0", "--ignore", ...left]);
        if (left.length) await podman.exec(["rm", "-f", "-t", "0", "--ignore", ...left]);
      }
    },
    60_000,
  );
});
