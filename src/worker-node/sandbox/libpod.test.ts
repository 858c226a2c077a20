import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { ContainerSpec } from "./container-spec";
import { createBody, LibpodError } from "./libpod";
import { containerArgs, removeContainersArgs } from "./podman";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "./test-sandbox";

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
  afterAll(() => podman.exec(removeContainersArgs(names)));

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
