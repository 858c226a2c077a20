import { describe, expect, it } from "bun:test";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinContainersConf, containerArgs, createPodman, podmanEnv, resolveContainersConf } from "./podman";
import type { ContainerSpec } from "./container-spec";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";

const spec: ContainerSpec = {
  name: "cynodeai-job-j1",
  image: "localhost/cynode-sandbox:latest",
  command: ["sh", "-c", "echo $X --not-a-flag"],
  env: { X: "1", CYNODE_JOB_ID: "j1" },
  labels: { "cynodeai.job_id": "j1" },
  limits: { pids: 128, memoryMb: 512, cpus: 1.5 },
  workdir: "/workspace",
  mounts: [{ source: "/var/lib/ws/j1", target: "/workspace" }],
};

describe("containerArgs", () => {
  it("hardens the container and passes the command verbatim after the image", () => {
    const args = containerArgs(spec);
    expect(args.slice(0, 4)).toEqual(["run", "--rm", "--name=cynodeai-job-j1", "--pull=never"]);
    for (const flag of [
      "--network=none",
      "--cap-drop=ALL",
      "--security-opt=no-new-privileges",
      "--read-only",
      "--pids-limit=128",
      "--memory=512m",
      "--cpus=1.5",
    ]) {
      expect(args).toContain(flag);
    }
    expect(args).toContain("--mount=type=bind,source=/var/lib/ws/j1,target=/workspace");
    expect(args).toContain("--env=X=1");
    expect(args).toContain("--label=cynodeai.job_id=j1");
    expect(args.slice(-4)).toEqual(["localhost/cynode-sandbox:latest", "sh", "-c", "echo $X --not-a-flag"]);
  });

  it("joins a pod instead of disabling the network when a pod is given", () => {
    const args = containerArgs({
      ...spec,
      pod: "p1",
      mounts: [{ source: "/a", target: "/run/cynode", readOnly: true }],
    });
    expect(args).toContain("--pod=p1");
    expect(args).not.toContain("--network=none");
    expect(args).not.toContain("--hostname=sandbox");
    expect(containerArgs(spec)).toContain("--hostname=sandbox");
    expect(args).toContain("--mount=type=bind,source=/a,target=/run/cynode,ro");
  });

  it("gives the container its own deadline when one is set", () => {
    expect(containerArgs({ ...spec, deadlineSeconds: 62 })).toContain("--timeout=62");
    expect(containerArgs(spec).some((a) => a.startsWith("--timeout"))).toBe(false);
  });

  it("gives a sandbox its own user namespace and a size-limited workspace tmpfs; autoRemove false keeps it", () => {
    expect(containerArgs(spec)).toContain("--uidmap=0:2147483647:65536");
    expect(containerArgs(spec)).toContain("--gidmap=0:2147483647:65536");
    expect(containerArgs({ ...spec, pod: "p1" })).not.toContain("--uidmap=0:2147483647:65536");
    const args = containerArgs({ ...spec, autoRemove: false, workspace: { target: "/workspace", sizeMb: 64 } });
    expect(args.slice(0, 2)).toEqual(["run", "--name=cynodeai-job-j1"]);
    expect(args).not.toContain("--rm");
    expect(args).toContain("--tmpfs=/workspace:rw,nosuid,nodev,mode=0700,size=64m");
    expect(containerArgs(spec).some((a) => a.startsWith("--tmpfs=/workspace"))).toBe(false);
  });

  it("refuses argv that podman would misread", () => {
    expect(() => containerArgs({ ...spec, image: "--privileged" })).toThrow("invalid image");
    expect(() => containerArgs({ ...spec, env: { "A=B": "x" } })).toThrow("invalid environment variable name");
    expect(() => containerArgs({ ...spec, mounts: [{ source: "/a,b", target: "/w" }] })).toThrow("unsafe mount");
  });
});

describe("podmanEnv", () => {
  it("keeps only what podman needs and always sets CONTAINERS_CONF", () => {
    const env = podmanEnv("/c.conf", {
      HOME: "/root",
      NODE_REGISTRATION_PSK: "s3cret",
      WORKER_API_BEARER_TOKEN: "t",
      CONTAINERS_CONF: "/other",
    });
    expect(env).toEqual({ PATH: expect.any(String), HOME: "/root", CONTAINERS_CONF: "/c.conf" });
  });
});

describe("resolveContainersConf", () => {
  it("prefers an explicit path and rejects a missing one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-conf-"));
    await Bun.write(join(dir, "x.conf"), "[engine]\n");
    expect(await resolveContainersConf({ explicit: join(dir, "x.conf"), stateDir: dir })).toBe(join(dir, "x.conf"));
    await expect(resolveContainersConf({ explicit: join(dir, "nope.conf"), stateDir: dir })).rejects.toThrow(
      "not found",
    );
  });

  it("uses the source tree's file, else writes the embedded copy into the state dir", async () => {
    const fromSource = await resolveContainersConf({ stateDir: "/nonexistent" });
    expect(await readFile(fromSource, "utf8")).toBe(builtinContainersConf);
    const stateDir = join(await mkdtemp(join(tmpdir(), "cynode-conf-")), "state");
    const written = await resolveContainersConf({ stateDir, sourcePath: join(stateDir, "missing.conf") });
    expect(written).toBe(join(stateDir, "containers.conf"));
    expect(await readFile(written, "utf8")).toContain('runtime = "runc"');
    expect(await resolveContainersConf({ stateDir, sourcePath: join(stateDir, "missing.conf") })).toBe(written);
  });
});

describe("createPodman (real podman)", () => {
  it("runs podman with our containers.conf", async () => {
    const podman = createPodman({ containersConf: await resolveContainersConf({ stateDir: tmpdir() }) });
    const info = await podman.exec(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    expect(info).toMatchObject({ exitCode: 0, stdout: "runc\n" });
  });

  it("a container dies at its own deadline even when the process that started it was killed", async () => {
    const podman = testPodman();
    await ensureSandboxImage(podman);
    const name = `cynode-deadline-test-${crypto.randomUUID().slice(0, 8)}`;
    const listed = async () =>
      (await podman.exec(["ps", "--all", "--format={{.Names}}", `--filter=name=${name}`])).stdout;
    const args = containerArgs({
      ...spec,
      name,
      image: SANDBOX_IMAGE,
      command: ["sleep", "300"],
      mounts: [],
      deadlineSeconds: 3,
    });
    const proc = Bun.spawn(["podman", ...args], {
      env: podmanEnv(podman.containersConf, process.env),
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      await until(async () => (await listed()).includes(name), "podman run to create the container", {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      process.kill(proc.pid, "SIGKILL"); // the worker (and its attached podman) is gone
      await until(async () => !(await listed()).includes(name), "conmon to end the container at podman's --timeout", {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
    } finally {
      await podman.api.remove(name);
    }
  }, 120_000);

  it("reports a missing binary as exit 127", async () => {
    const podman = createPodman({ containersConf: "/x", bin: "/nonexistent/podman" });
    const r = await podman.exec(["version"]);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toContain("cannot run /nonexistent/podman");
  });
});
