import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { readdir, statfs } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { effectiveTimeoutSeconds, jobEnv } from "./job-sandbox";
import { createSandboxRunner, type RunnerDeps } from "./run-job";
import { containerName, DEADLINES_DIR, NODE_LABEL } from "./job-sandbox";
import { uptimeSeconds } from "./deadline-keeper";
import {
  ensureSandboxImage,
  FORK_BOMB_SCRIPT,
  SANDBOX_IMAGE,
  startedSignal,
  testPodman,
  testSettings,
  withCountingListener,
  withNodeSecrets,
} from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";

// Real containers: seconds on a busy host, so the 5 s default would turn load into failures.
setDefaultTimeout(60_000);
const podman = testPodman();
const fixedNow = () => new Date("2026-03-01T12:00:00.123Z");

function job(command: string[], sandbox: Partial<RunJobRequest["sandbox"]> = {}): RunJobRequest {
  const id = crypto.randomUUID();
  return { version: 1, task_id: `task-${id}`, job_id: id, sandbox: { command, ...sandbox } };
}
const sh = (script: string, sandbox: Partial<RunJobRequest["sandbox"]> = {}) => job(["sh", "-c", script], sandbox);

/** Starts a job (`make` turns a command line into it) that signals once its container runs, and waits for that. */
async function runningJob(r: ReturnType<typeof createSandboxRunner>, make: (command: string) => RunJobRequest = sh) {
  const started = startedSignal();
  const j = make(started.command);
  const result = r.run(j);
  await started.seen();
  return { j, result };
}

async function runner(overrides: Partial<RunnerDeps> = {}, settings = {}) {
  return createSandboxRunner({
    podman,
    settings: await testSettings(settings),
    log: memoryLogger(),
    now: fixedNow,
    ...overrides,
  });
}

beforeAll(() => ensureSandboxImage(podman));

describe("effectiveTimeoutSeconds", () => {
  const timeouts = { defaultSeconds: 3600, maxSeconds: 10800 };
  it("uses the node default, caps at the node max and at the orchestrator's constraint", () => {
    expect(effectiveTimeoutSeconds(undefined, timeouts)).toBe(3600);
    expect(effectiveTimeoutSeconds(20000, timeouts)).toBe(10800);
    expect(effectiveTimeoutSeconds(20000, timeouts, 600)).toBe(600);
    expect(effectiveTimeoutSeconds(30, timeouts, 600)).toBe(30);
  });
});

describe("jobEnv", () => {
  it("keeps request env but never lets it override the reserved names", () => {
    const j = sh("env", { env: { CYNODE_TASK_ID: "forged", CYNODE_PROMPT: "hi" } });
    expect(jobEnv(j)).toEqual({
      CYNODE_PROMPT: "hi",
      CYNODE_TASK_ID: j.task_id,
      CYNODE_JOB_ID: j.job_id,
      CYNODE_WORKSPACE_DIR: "/workspace",
      CYNODE_ARTIFACTS_DIR: "/job/artifacts",
    });
  });
  it("rejects names and values podman would misread", () => {
    expect(() => jobEnv(sh("env", { env: { "A=B": "x" } }))).toThrow("not a valid variable name");
    expect(() => jobEnv(sh("env", { env: { A: "x\0y" } }))).toThrow("NUL byte");
  });
});

describe("sandbox runner (real podman)", () => {
  it("runs a job that prints hello with exit 0, in /workspace, with RFC 3339 times", async () => {
    const j = sh("echo hello; pwd >&2");
    expect(await (await runner()).run(j)).toEqual({
      version: 1,
      task_id: j.task_id,
      job_id: j.job_id,
      status: "completed",
      exit_code: 0,
      stdout: "hello\n",
      stderr: "/workspace\n",
      started_at: "2026-03-01T12:00:00Z",
      ended_at: "2026-03-01T12:00:00Z",
      truncated: { stdout: false, stderr: false },
    });
  });

  it("reports a failing command as failed with its exit code and removes the workspace", async () => {
    const r = await runner();
    const res = await r.run(sh("echo oops >&2; exit 7"));
    expect(res).toMatchObject({ status: "failed", exit_code: 7, stderr: "oops\n" });
    expect(r.activeJobs).toBe(0);
  });

  it("kills a job that outlives its timeout", async () => {
    const res = await (await runner()).run(sh("echo before; sleep 30", { timeout_seconds: 1 }));
    expect(res).toMatchObject({ status: "timeout", exit_code: -1, stdout: "before\n" });
  });

  it("truncates 1 MiB of output at 256 KiB on a character boundary and flags it", async () => {
    const res = await (await runner()).run(sh("yes '€€€' | head -c 1048576; echo small >&2"));
    const bytes = new TextEncoder().encode(res.stdout);
    expect(res).toMatchObject({ status: "completed", truncated: { stdout: true, stderr: false }, stderr: "small\n" });
    expect(bytes.length).toBeLessThanOrEqual(262144);
    expect(bytes.length).toBeGreaterThan(262140);
    expect(res.stdout).not.toContain("\uFFFD");
  });
});

describe("sandbox runner isolation (real podman)", () => {
  it("ignores a forged CYNODE_TASK_ID and passes other env through", async () => {
    const j = sh("env", { env: { CYNODE_TASK_ID: "forged", CYNODE_PROMPT: "hi there" } });
    const { stdout } = await (await runner()).run(j);
    expect(stdout).toContain(`CYNODE_TASK_ID=${j.task_id}\n`);
    expect(stdout).toContain("CYNODE_PROMPT=hi there\n");
    expect(stdout).not.toContain("forged");
  });

  it("gives the sandbox no network: only loopback, and connects to the host or beyond fail", async () => {
    const hostIp =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.1";
    await withCountingListener(async (port, accepted) => {
      const script = `ls /sys/class/net; for t in ${hostIp}:${port} 10.0.2.2:${port} 1.1.1.1:443; do nc -w 2 \${t%:*} \${t#*:} </dev/null && echo CONNECTED $t || echo BLOCKED; done`;
      const res = await (await runner()).run(sh(script));
      expect(res.stdout).toBe("lo\nBLOCKED\nBLOCKED\nBLOCKED\n");
      expect(res.stderr).toContain("Network is unreachable");
      expect(accepted()).toBe(0);
    });
  });

  it("exposes none of the node's secrets in env, /proc/1/environ or mounts", async () => {
    await withNodeSecrets(async (secret) => {
      const settings = await testSettings();
      const r = createSandboxRunner({ podman: testPodman(), settings, log: memoryLogger() });
      const res = await r.run(
        sh("env; tr '\\0' '\\n' </proc/1/environ; cat /proc/self/mountinfo; ls -a /workspace /run"),
      );
      expect(res.status).toBe("completed");
      expect(res.stdout).not.toContain(secret);
      expect(res.stdout).not.toMatch(/PSK|BEARER|CONTAINERS_CONF|HOME=\/root/);
      expect(res.stdout).not.toContain("/etc/cynode");
    });
  });

  it("holds a fork bomb at the pids limit", async () => {
    const res = await (await runner({}, { limits: { pids: 32, memoryMb: 256, cpus: 1 } })).run(
      sh(FORK_BOMB_SCRIPT, { timeout_seconds: 30 }),
    );
    expect(res).toMatchObject({ status: "completed", stdout: "held at 32\n" });
    expect(res.stderr).toContain("can't fork");
  });
});

describe("sandbox runner cancel and admission (real podman)", () => {
  it("cancels a running job at once: the container is gone when cancel returns", async () => {
    const settings = await testSettings();
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const { j, result } = await runningJob(r);
    expect(await r.cancel(j.job_id)).toBe(true);
    expect((await podman.exec(["container", "exists", containerName(j, settings.nodeSlug)])).exitCode).toBe(1);
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
    expect(await r.cancel(j.job_id)).toBe(false);
  });

  it("cancels a job whose podman run has started but not yet created its container", async () => {
    const settings = await testSettings();
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const j = sh("sleep 600");
    const result = r.run(j);
    // The io directory appears just before the container is asked for, well before podman has created it.
    await until(() => existsSync(join(settings.mountRoot, j.job_id, "io")), "the job's io directory", {
      intervalMs: 1,
    });
    expect(await r.cancel(j.job_id)).toBe(true);
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
    expect((await podman.exec(["container", "exists", containerName(j, settings.nodeSlug)])).exitCode).toBe(1);
  });

  it("stops every running job on shutdown", async () => {
    const settings = await testSettings();
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const { j, result } = await runningJob(r);
    await r.stopAll();
    expect(await result).toMatchObject({ status: "canceled" });
  });

  it("rejects duplicate job ids, unsafe ids, disallowed images and jobs beyond capacity", async () => {
    const settings = await testSettings({ maxConcurrency: 1, allowedImages: ["localhost/cynode-sandbox:latest"] });
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const { j, result } = await runningJob(r);
    await expect(r.run(j)).rejects.toMatchObject({ kind: "duplicate" });
    await expect(r.run(sh("true"))).rejects.toMatchObject({ kind: "full", message: "sandbox capacity reached" });
    await r.cancel(j.job_id);
    await result;
    await expect(r.run({ ...sh("true"), job_id: "../x" })).rejects.toMatchObject({ kind: "invalid" });
    await expect(r.run(sh("true", { image: "docker.io/library/alpine" }))).rejects.toMatchObject({
      kind: "invalid",
      message: "image not allowed by node policy: docker.io/library/alpine",
    });
  });
});

describe("sandbox runner failures and leftovers (real podman)", () => {
  it("fails a job whose image does not exist without calling a registry", async () => {
    const res = await (await runner()).run(sh("true", { image: "localhost/cynode-no-such-image:latest" }));
    expect(res.status).toBe("failed");
    expect(res.exit_code).toBe(-1);
    expect(res.stderr).toContain("sandbox could not be started");
  });

  it("runs use_inference jobs in the placement the inference hook provides, and releases it", async () => {
    let released = 0;
    const r = await runner({
      placeInferenceJob: async () => ({
        env: { OLLAMA_BASE_URL: "http://localhost:11434" },
        mounts: [],
        release: async () => void released++,
      }),
    });
    const res = await r.run(sh("echo $OLLAMA_BASE_URL", { use_inference: true }));
    expect(res).toMatchObject({ status: "completed", stdout: "http://localhost:11434\n" });
    // Released after the result, off its path.
    await until(() => released > 0, "the placement to be released", { intervalMs: 10 });
    expect(released).toBe(1);
    const broken = await runner({ placeInferenceJob: () => Promise.reject(new Error("no proxy image")) });
    expect(await broken.run(sh("true", { use_inference: true }))).toMatchObject({
      status: "failed",
      stderr: "sandbox placement failed: no proxy image",
    });
  });

  it("refuses a job whose directories cannot be created, as an internal failure", async () => {
    const r = await runner({}, { mountRoot: "/proc/cannot-create-here" });
    await expect(r.run(sh("true"))).rejects.toMatchObject({ kind: "internal", message: "Workspace creation failed" });
  });

  it("removes containers and workspaces this node left behind, and only those", async () => {
    const settings = await testSettings();
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const mine = `cynodeai-job-leftover-${crypto.randomUUID()}`;
    const other = `cynodeai-job-other-${crypto.randomUUID()}`;
    await podman.exec([
      "create",
      `--name=${mine}`,
      `--label=${NODE_LABEL}=${settings.nodeSlug}`,
      "localhost/cynode-sandbox:latest",
      "true",
    ]);
    await podman.exec([
      "create",
      `--name=${other}`,
      `--label=${NODE_LABEL}=someone-else`,
      "localhost/cynode-sandbox:latest",
      "true",
    ]);
    try {
      expect(await r.removeLeftovers()).toEqual([mine]);
      expect((await podman.exec(["container", "exists", other])).exitCode).toBe(0);
    } finally {
      await Promise.all([mine, other].map((n) => podman.api.remove(n)));
    }
    const broken = createSandboxRunner({
      podman: { ...podman, api: { ...podman.api, list: () => Promise.reject(new Error("boom")) } },
      settings,
      log: memoryLogger(),
    });
    await expect(broken.removeLeftovers()).rejects.toThrow("listing containers failed: boom");
    // A container that removed itself (or another node's clean-up removed) after the listing is no error.
    const gone = `cynodeai-job-gone-${crypto.randomUUID()}`;
    const racing = createSandboxRunner({
      podman: { ...podman, api: { ...podman.api, list: async () => [gone] } },
      settings,
      log: memoryLogger(),
    });
    expect(await racing.removeLeftovers()).toEqual([gone]);
  });
});

describe("sandbox isolation from the host's root", () => {
  it("runs the job as root of its own user namespace, mapped to an unprivileged host uid", async () => {
    const res = await (await runner()).run(sh("id -u; cat /proc/self/uid_map; echo x > /workspace/f && echo wrote"));
    expect(res.status).toBe("completed");
    const [uid, map, wrote] = res.stdout.trim().split("\n");
    expect(uid).toBe("0");
    const [inside, outside, count] = map!.trim().split(/\s+/).map(Number);
    expect(inside).toBe(0);
    expect(outside).toBeGreaterThan(0);
    expect(count).toBeLessThan(4294967295);
    expect(wrote).toBe("wrote");
  });
});

describe("workspace quota and script delivery", () => {
  it("stops writes to /workspace at sandbox.resources.max_disk_mb, and the host's disk never sees them", async () => {
    const settings = await testSettings({ maxDiskMb: 16 });
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const before = (await statfs(settings.mountRoot.replace(/sandbox_mounts$/, ""))).bavail;
    const res = await r.run(sh("dd if=/dev/zero of=/workspace/x bs=1M count=64; ls -l /workspace/x; df -m /workspace"));
    expect(res.stderr).toContain("No space left on device");
    const size = Number(res.stdout.split("\n")[0]!.trim().split(/\s+/)[4]);
    expect(size).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(size).toBeGreaterThan(8 * 1024 * 1024);
    const { bavail, bsize } = await statfs(settings.mountRoot.replace(/sandbox_mounts$/, ""));
    // Other engineers write to this disk too: allow them slack, but never the 64 MiB this job asked for.
    expect((before - bavail) * bsize).toBeLessThan(48 * 1024 * 1024);
    // The sandbox's directories go after the result, off its path (the deadline keeper's own directory stays).
    await until(
      async () => (await readdir(settings.mountRoot)).every((e) => e === DEADLINES_DIR),
      "the job's directories to go",
      {
        intervalMs: 10,
      },
    );
  });

  it("bounds every writable path: 3 GB written into each puts at most the quota on the node's disk", async () => {
    const settings = await testSettings({ maxDiskMb: 16, warmPool: 1 });
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    r.warmUp();
    await until(() => r.warm("plain") > 0, "a warm sandbox waiting", { timeoutMs: 30_000 });
    const disk = async () => {
      const { bavail, bsize } = await statfs(settings.mountRoot);
      return bavail * bsize;
    };
    const before = await disk();
    const paths = [
      "/workspace",
      "/job/artifacts",
      "/tmp",
      "/run",
      "/var/tmp",
      "/dev/shm",
      "/run/cynode-io",
      "/",
      "/etc",
    ];
    // Each path in a subshell of its own: the memory cgroup may kill a writer that fills memory-backed space.
    const script = paths
      .map((p) => `(dd if=/dev/zero of=${p}/fill bs=1M count=3072 2>/dev/null; echo "${p} $?"); rm -f ${p}/fill`)
      .join("; ");
    // Nor can it plant a link where the worker's FIFOs are.
    const plant = "rm /run/cynode-io/out 2>&1 && ln -s /etc/shadow /run/cynode-io/out";
    const res = await r.run(sh(`${script}; ${plant}`, { timeout_seconds: 100 }));
    try {
      const lines = res.stdout.trim().split("\n");
      // Not one write of 3 GB succeeded anywhere (dd's status is never 0).
      for (const p of paths) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${p} [1-9]`)));
      expect(lines.slice(paths.length)).toEqual([expect.stringContaining("Read-only file system")]);
      // Other engineers write to this disk too: allow them slack, but never a write of this job's size.
      expect(before - (await disk())).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await r.stopAll();
    }
  });

  it("runs a 1 MiB script: it reaches the sandbox on stdin, never in argv", async () => {
    const line = `echo ${"x".repeat(1000)} >/dev/null\n`;
    const script = `${line.repeat(Math.ceil((1024 * 1024) / line.length))}echo "done $# $1"; cat /proc/1/cmdline | tr '\\0' ' '`;
    expect(script.length).toBeGreaterThan(1024 * 1024);
    const res = await (await runner()).run(job(["sh", "-c", script, "name", "arg'1"]));
    expect(res).toMatchObject({ status: "completed", exit_code: 0, stderr: "" });
    expect(res.stdout).toBe("done 1 arg'1\nsh -s ");
  });

  it("runs a non-shell command as argv with its env, stdin empty", async () => {
    const res = await (await runner()).run(job(["env"], { env: { QUOTED: "it's $HOME `x`" } }));
    expect(res.stdout).toContain("QUOTED=it's $HOME `x`\n");
    const cat = await (await runner()).run(job(["cat"]));
    expect(cat).toMatchObject({ status: "completed", stdout: "" });
  });
});

describe("a command without a script in another image (one attached container)", () => {
  const elsewhere = () => testSettings({ defaultImage: "localhost/cynode-some-other-default:latest" });

  it("runs its argv as given, fails when podman cannot start it, and is canceled at once, even before podman created it", async () => {
    const settings = await elsewhere();
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    expect(await r.run(job(["echo", "attached"], { image: SANDBOX_IMAGE }))).toMatchObject({
      status: "completed",
      stdout: "attached\n",
    });
    expect(await r.run(job(["true"], { image: "localhost/cynode-no-such-image:latest" }))).toMatchObject({
      status: "failed",
      exit_code: -1,
      stderr: expect.stringContaining("sandbox could not be started"),
    });
    const j = job(["sleep", "60"], { image: SANDBOX_IMAGE });
    const result = r.run(j);
    expect(await r.cancel(j.job_id)).toBe(true);
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
    expect((await podman.exec(["container", "exists", containerName(j, settings.nodeSlug)])).exitCode).toBe(1);
  });

  it("leaves what it could not remove to the deadline keeper, due at once", async () => {
    const settings = await testSettings();
    const log = memoryLogger();
    const r = createSandboxRunner({
      podman,
      settings,
      log,
      placeInferenceJob: async () => ({ mounts: [], env: {}, release: () => Promise.reject(new Error("pod busy")) }),
    });
    const j = sh("true", { use_inference: true });
    expect(await r.run(j)).toMatchObject({ status: "completed" });
    await r.settled();
    expect(log.lines).toContainEqual(expect.objectContaining({ msg: "sandbox removal failed", error: "pod busy" }));
    const entry = join(settings.mountRoot, DEADLINES_DIR, containerName(j, settings.nodeSlug));
    // The keeper takes it at its next scan (a second at most): due now, not at the job's deadline.
    const line = await Bun.file(entry)
      .text()
      .catch(() => "0 gone");
    const due = Number(line.split(" ")[0]);
    expect(due).toBeLessThanOrEqual(Math.ceil(uptimeSeconds()));
  });

  it("is canceled while its placement is being made, and then never started", async () => {
    const settings = await elsewhere();
    const placing = Promise.withResolvers<void>();
    let released = 0;
    const r = createSandboxRunner({
      podman,
      settings,
      log: memoryLogger(),
      placeInferenceJob: async () => {
        await placing.promise;
        return { mounts: [], env: {}, release: async () => void released++ };
      },
    });
    const j = job(["sleep", "60"], { image: SANDBOX_IMAGE, use_inference: true });
    const result = r.run(j);
    expect(await r.cancel(j.job_id)).toBe(true);
    placing.resolve();
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
    await r.settled();
    expect(released).toBe(1);
    expect((await podman.exec(["container", "exists", containerName(j, settings.nodeSlug)])).exitCode).toBe(1);
  });
});

describe("an attached run keeps every sandbox's bounds", () => {
  it("caps its output, keeps its exit code and stderr, and carries the job's labels while it runs", async () => {
    const settings = await testSettings({
      defaultImage: "localhost/cynode-some-other-default:latest",
      maxOutputBytes: 1000,
    });
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    const capped = await r.run(job(["seq", "1", "100000"], { image: SANDBOX_IMAGE }));
    expect(capped).toMatchObject({ status: "completed", truncated: { stdout: true, stderr: false } });
    expect(capped.stdout).toHaveLength(1000);
    expect(capped.stdout.startsWith("1\n2\n3\n")).toBe(true);
    expect(await r.run(job(["/no-such-command"], { image: SANDBOX_IMAGE }))).toMatchObject({
      status: "failed",
      exit_code: -1,
      stderr: expect.stringMatching(/^sandbox could not be started: .*no-such-command/),
    });
    const failed = await r.run(job(["ls", "/no-such-path"], { image: SANDBOX_IMAGE }));
    expect(failed).toMatchObject({ status: "failed", exit_code: 1, stderr: expect.stringContaining("/no-such-path") });
    const { j, result } = await runningJob(r, (command) => job(command.split(" "), { image: SANDBOX_IMAGE }));
    const labelled = async (label: string) =>
      (await podman.exec(["ps", "--format={{.Names}}", `--filter=label=${label}`])).stdout.trim();
    expect(await labelled(`cynodeai.task_id=${j.task_id}`)).toBe(containerName(j, settings.nodeSlug));
    expect(await labelled(`cynodeai.job_id=${j.job_id}`)).toBe(containerName(j, settings.nodeSlug));
    expect(await labelled(`${NODE_LABEL}=${settings.nodeSlug}`)).toBe(containerName(j, settings.nodeSlug));
    expect(await r.cancel(j.job_id)).toBe(true);
    expect(await result).toMatchObject({ status: "canceled", exit_code: -1 });
  });

  it("is killed and removed at its timeout", async () => {
    const settings = await testSettings({ defaultImage: "localhost/cynode-some-other-default:latest" });
    const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
    // Plain argv (a `sh -c` script would run launched): podman's own deadline, 2 s later, would say `failed`.
    const j = job(["sleep", "60"], { image: SANDBOX_IMAGE, timeout_seconds: 1 });
    const t0 = Date.now();
    expect(await r.run(j)).toMatchObject({ status: "timeout", exit_code: -1 });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await podman.exec(["container", "exists", containerName(j, settings.nodeSlug)])).exitCode).toBe(1);
  });
});
