import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { ContainerSpec } from "./container-spec";
import { createBody, createPodmanService, demux, frames, LibpodError, serviceArgv } from "./libpod";
import { containerArgs, podmanEnv } from "./podman";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";
import { until } from "../../testing/until";

setDefaultTimeout(60_000);
const podman = testPodman();

const spec = (name: string): ContainerSpec => ({
  name,
  image: SANDBOX_IMAGE,
  command: ["sh", "-c", "echo $X"],
  env: { X: "1" },
  labels: { "cynodeai.job_id": "j1" },
  limits: { pids: 128, memoryMb: 512, cpus: 1.5 },
  workdir: "/workspace",
  workspace: { target: "/workspace", sizeMb: 64 },
  mounts: [{ source: "/tmp", target: "/run/cynode-io" }],
  deadlineSeconds: 62,
});

describe("createBody", () => {
  it("asks for a no-network, user-namespaced, read-only, capped container that removes itself", () => {
    const body = createBody(spec("c1"));
    expect(body).toMatchObject({
      name: "c1",
      remove: true,
      netns: { nsmode: "none" },
      userns: { nsmode: "private" },
      idmappings: { UIDMap: [{ container_id: 0, host_id: 2147483647, size: 65536 }] },
      cap_drop: ["ALL"],
      no_new_privileges: true,
      read_only_filesystem: true,
      timeout: 62,
      resource_limits: { pids: { limit: 128 }, cpu: { quota: 150000, period: 100000 } },
      log_configuration: { driver: "none" },
    });
    expect(createBody({ ...spec("c2"), pod: "p1" })).toMatchObject({ pod: "p1" });
    expect(createBody({ ...spec("c2"), pod: "p1" })).not.toHaveProperty("netns");
  });

  it("refuses what podman would misread", () => {
    expect(() => createBody({ ...spec("c3"), image: "--privileged" })).toThrow("invalid image");
    expect(() => createBody({ ...spec("c3"), env: { "A=B": "x" } })).toThrow("invalid environment variable name");
    expect(() => createBody({ ...spec("c3"), mounts: [{ source: "/a,b", target: "/w" }] })).toThrow("unsafe mount");
  });
});

/** The parts of `podman inspect` that say how a container is isolated and limited. */
function isolation(c: any) {
  const h = c.HostConfig;
  return {
    capDrop: [...h.CapDrop].sort(),
    capAdd: h.CapAdd,
    readOnly: h.ReadonlyRootfs,
    securityOpt: h.SecurityOpt,
    pids: h.PidsLimit,
    memory: h.Memory,
    swap: h.MemorySwap,
    cpu: [h.CpuQuota, h.CpuPeriod],
    network: h.NetworkMode,
    userns: h.UsernsMode,
    idMappings: c.HostConfig.IDMappings ?? c.IDMappings,
    ulimits: h.Ulimits,
    // The same options, whatever their order.
    tmpfs: Object.fromEntries(Object.entries(h.Tmpfs).map(([k, v]) => [k, String(v).split(",").sort()])),
    mounts: c.Mounts.map((m: any) => [m.Type, m.Source, m.Destination, m.RW]),
    autoRemove: h.AutoRemove,
    log: h.LogConfig.Type,
    labels: c.Config.Labels,
    env: c.Config.Env.filter((e: string) => e.startsWith("X=")),
    hostname: c.Config.Hostname,
    workdir: c.Config.WorkingDir,
    timeout: c.Config.Timeout,
    command: c.Config.Cmd,
  };
}

describe("the podman service (real podman)", () => {
  const names = [
    `cynode-libpod-cli-${crypto.randomUUID().slice(0, 8)}`,
    `cynode-libpod-api-${crypto.randomUUID().slice(0, 8)}`,
  ];
  beforeAll(() => ensureSandboxImage(podman));
  afterAll(() => Promise.all(names.map((n) => podman.api.remove(n))));

  it("creates through the API exactly the container the command line describes", async () => {
    const [cli, api] = names as [string, string];
    const created = await podman.exec(["create", ...containerArgs(spec(cli)).slice(1)]);
    expect(created.exitCode).toBe(0);
    await podman.api.create(spec(api));
    const inspected = JSON.parse((await podman.exec(["inspect", cli, api])).stdout);
    const [a, b] = inspected.map(isolation);
    expect(b).toEqual(a);
    expect(a.userns).toBe("private");
    expect(a.network).toBe("none");
  });

  it("runs, awaits and removes a container, and names podman's refusal", async () => {
    const name = `cynode-libpod-run-${crypto.randomUUID().slice(0, 8)}`;
    const id = await podman.api.run({ ...spec(name), command: ["sh", "-c", "exit 7"], mounts: [] });
    expect(await podman.api.wait(id)).toBe(7);
    await podman.api.remove(name);
    await podman.api.remove(name); // already gone: no error
    expect(await podman.api.list({ "cynodeai.job_id": "j1" })).not.toContain(name);
    const refused = podman.api.run({ ...spec(name), image: "localhost/cynode-no-such-image:latest" });
    await expect(refused).rejects.toBeInstanceOf(LibpodError);
    await expect(refused).rejects.toThrow("cynode-no-such-image");
  });
});

const frame = (stream: number, text: string) => {
  const payload = new TextEncoder().encode(text);
  const header = new Uint8Array(8);
  header[0] = stream;
  new DataView(header.buffer).setUint32(4, payload.length);
  return Buffer.concat([header, payload]);
};
/** A stream that delivers `bytes` cut at every `step` bytes (frames split across reads). */
const chunked = (bytes: Uint8Array, step: number) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += step) c.enqueue(bytes.subarray(i, i + step));
      c.close();
    },
  });

describe("podman's multiplexed output", () => {
  const bytes = Buffer.concat([frame(1, "out 1\n"), frame(2, "err\n"), frame(3, "stdin"), frame(1, "out 2\n")]);

  it("reads frames however the reads cut them", async () => {
    for (const step of [1, 3, 8, 100]) {
      const got: string[] = [];
      for await (const f of frames(chunked(bytes, step)))
        got.push(`${f.stream}:${new TextDecoder().decode(f.payload)}`);
      expect(got).toEqual(["1:out 1\n", "2:err\n", "3:stdin", "1:out 2\n"]);
    }
  });

  it("splits them into stdout and stderr, and still feeds one side when the other is cancelled", async () => {
    const out = demux(chunked(bytes, 5));
    expect(await Promise.all([new Response(out.stdout).text(), new Response(out.stderr).text()])).toEqual([
      "out 1\nout 2\n",
      "err\n",
    ]);
    const half = demux(chunked(bytes, 5));
    await half.stderr.cancel();
    expect(await new Response(half.stdout).text()).toBe("out 1\nout 2\n");
  });

  it("passes a broken source on to both sides", async () => {
    const broken = new ReadableStream<Uint8Array>({ start: (c) => c.error(new Error("reset")) });
    const out = demux(broken);
    await expect(new Response(out.stdout).text()).rejects.toThrow("reset");
    await expect(new Response(out.stderr).text()).rejects.toThrow("reset");
  });
});

describe("a container's output and images through the service (real podman)", () => {
  beforeAll(() => ensureSandboxImage(podman));
  const limits = { pids: 16, memoryMb: 64, cpus: 1 };
  const named = (what: string) => `cynode-libpod-${what}-${crypto.randomUUID().slice(0, 8)}`;
  /** A kept container (removed by the test) running `script`. */
  const shell = (what: string, script: string): ContainerSpec => ({
    name: named(what),
    image: SANDBOX_IMAGE,
    command: ["sh", "-c", script],
    env: {},
    labels: {},
    limits,
    autoRemove: false,
  });

  it("attaches before the start and reads stdout and stderr apart to the end", async () => {
    const id = await podman.api.create(shell("attach", "echo one; echo two >&2; seq 1 20000; exit 4"));
    try {
      const out = await podman.api.attach(id);
      await podman.api.start(id);
      const [stdout, stderr] = await Promise.all([new Response(out.stdout).text(), new Response(out.stderr).text()]);
      expect(stdout.startsWith("one\n1\n2\n")).toBe(true);
      expect(stdout.endsWith("\n20000\n")).toBe(true);
      expect(stderr).toBe("two\n");
      expect(await podman.api.wait(id, "50ms")).toBe(4);
    } finally {
      await podman.api.remove(id);
    }
  });

  it("reads the tail of a kept log, both streams", async () => {
    const id = await podman.api.run({ ...shell("logs", "echo a; echo b >&2; echo c; echo d >&2"), keepLogs: true });
    try {
      expect(await podman.api.wait(id, "50ms")).toBe(0);
      // conmon reads stdout and stderr from two pipes: the order between them is its own.
      expect((await podman.api.logs(id, 3)).split("\n").sort()).toEqual(["", "b", "c", "d"]);
      await expect(podman.api.logs(named("none"), 3)).rejects.toBeInstanceOf(LibpodError);
    } finally {
      await podman.api.remove(id);
    }
  });

  it("tells whether an image is there, names a failed pull, and gives podman's version", async () => {
    expect(await podman.api.imageExists(SANDBOX_IMAGE)).toBe(true);
    expect(await podman.api.imageExists("localhost/cynode-no-such-image:latest")).toBe(false);
    await expect(podman.api.pull("localhost:1/cynode-no-such-image:latest")).rejects.toThrow("cynode-no-such-image");
    expect(await podman.api.version()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

/** Pids of podman services listening on `socket`. */
async function servicePids(socket: string): Promise<number[]> {
  const p = Bun.spawn(["pgrep", "-f", `system service --time=0 unix://${socket}`], { stdout: "pipe" });
  return (await new Response(p.stdout).text()).split("\n").filter(Boolean).map(Number);
}

describe("serviceArgv", () => {
  it("ties the service to the node's life when setpriv is there", () => {
    expect(serviceArgv("podman", "/s.sock", "/usr/bin/setpriv")).toEqual([
      "/usr/bin/setpriv",
      "--pdeathsig",
      "KILL",
      "--",
      "podman",
      "system",
      "service",
      "--time=0",
      "unix:///s.sock",
    ]);
    expect(serviceArgv("podman", "/s.sock", null)).toEqual([
      "podman",
      "system",
      "service",
      "--time=0",
      "unix:///s.sock",
    ]);
  });
});

describe("the node's podman service (real podman)", () => {
  const env = () =>
    podmanEnv(testPodman().containersConf, { ...process.env, TMPDIR: `/tmp/svc-${crypto.randomUUID()}` });

  it("starts on first use, comes back after a crash, and stops on close without touching another's", async () => {
    const opts = { bin: "podman", env: env() };
    const service = createPodmanService(opts);
    const other = createPodmanService(opts);
    expect(other).not.toBe(service);
    const socket = await service.socket();
    const otherSocket = await other.socket();
    expect(otherSocket).not.toBe(socket);
    const [first] = await servicePids(socket);
    expect(first).toBeGreaterThan(0);
    process.kill(first!, "SIGKILL");
    await until(async () => !(await servicePids(socket)).includes(first!), "the killed service to be gone");
    expect(await service.socket()).toBe(socket);
    const [second] = await servicePids(socket);
    expect(second).not.toBe(first);
    await service.close();
    expect(await servicePids(socket)).toEqual([]);
    // Closing one adapter's service leaves another's running.
    expect(await servicePids(otherSocket)).toHaveLength(1);
    await other.close();
  });

  it("dies with the process that started it, even by SIGKILL", async () => {
    const script = `import { testPodman } from ${JSON.stringify(`${import.meta.dir}/../../testing/sandbox-fixture`)};
      const podman = testPodman(); await podman.api.list({}); console.log("up"); setInterval(() => {}, 1000);`;
    const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe" });
    const reader = child.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("up\n");
    const pgrep = Bun.spawn(["pgrep", "-P", String(child.pid), "-f", "setpriv|podman"], { stdout: "pipe" });
    const [service] = (await new Response(pgrep.stdout).text()).split("\n").filter(Boolean).map(Number);
    expect(service).toBeGreaterThan(0);
    child.kill("SIGKILL");
    const alive = () => Bun.spawnSync(["kill", "-0", String(service)]).exitCode === 0;
    await until(() => !alive(), "the service to die with its node");
  });

  it("says why it could not start", async () => {
    const service = createPodmanService({ bin: "/bin/false", env: env() });
    await expect(service.socket()).rejects.toThrow("podman system service did not start");
  });

  it("leaves containers to conmon: one dies at its own deadline after its service was killed", async () => {
    const podman = testPodman();
    await ensureSandboxImage(podman);
    const name = `cynode-svc-deadline-${crypto.randomUUID().slice(0, 8)}`;
    const spec = { name, image: SANDBOX_IMAGE, command: ["sleep", "300"], env: {}, labels: {} };
    await podman.api.run({ ...spec, limits: { pids: 16, memoryMb: 64, cpus: 1 }, deadlineSeconds: 2 });
    await podman.close(); // the service goes; the container stays with conmon
    expect((await podman.exec(["container", "exists", name])).exitCode).toBe(0);
    const exists = async () => (await podman.exec(["container", "exists", name])).exitCode === 0;
    await until(async () => !(await exists()), "conmon to end the container at its deadline", {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  });
});
