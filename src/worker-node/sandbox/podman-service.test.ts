import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPodmanService, serviceArgv } from "./podman-service";
import { podmanEnv } from "./podman";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "./test-sandbox";

setDefaultTimeout(60_000);

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

  it("starts on first use, is shared, comes back after a crash, and stops on close", async () => {
    const opts = { bin: "podman", env: env() };
    const service = createPodmanService(opts);
    expect(createPodmanService(opts)).toBe(service);
    const socket = await service.socket();
    const [first] = await servicePids(socket);
    expect(first).toBeGreaterThan(0);
    process.kill(first!, "SIGKILL");
    while ((await servicePids(socket)).includes(first!)) await Bun.sleep(20);
    expect(await service.socket()).toBe(socket);
    const [second] = await servicePids(socket);
    expect(second).not.toBe(first);
    await service.close();
    expect(await servicePids(socket)).toEqual([]);
    expect(createPodmanService(opts)).not.toBe(service);
  });

  it("dies with the process that started it, even by SIGKILL", async () => {
    const script = `import { testPodman } from ${JSON.stringify(`${import.meta.dir}/test-sandbox`)};
      const podman = testPodman(); await podman.api.list({}); console.log("up"); setInterval(() => {}, 1000);`;
    const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe" });
    const reader = child.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("up\n");
    const pgrep = Bun.spawn(["pgrep", "-P", String(child.pid), "-f", "setpriv|podman"], { stdout: "pipe" });
    const [service] = (await new Response(pgrep.stdout).text()).split("\n").filter(Boolean).map(Number);
    expect(service).toBeGreaterThan(0);
    child.kill("SIGKILL");
    const alive = () => Bun.spawnSync(["kill", "-0", String(service)]).exitCode === 0;
    while (alive()) await Bun.sleep(20);
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
    while ((await podman.exec(["container", "exists", name])).exitCode === 0) await Bun.sleep(200);
  });
});
