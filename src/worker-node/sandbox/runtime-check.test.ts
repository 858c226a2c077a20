import { describe, expect, it } from "bun:test";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPodman, type Podman } from "./podman";
import {
  checkSandboxRuntime,
  checkSubordinateIds,
  checkSandboxIo,
  explainPodmanFailure,
  RuntimeCheckError,
} from "./runtime-check";
import { ensureSandboxImage, SANDBOX_IMAGE, testPodman } from "../../testing/sandbox-fixture";

const limits = { pids: 64, memoryMb: 128, cpus: 1 };

describe("explainPodmanFailure", () => {
  it("names the cause and the fix for the failures this host kind shows", () => {
    expect(explainPodmanFailure("Error: crun: cgroups in hybrid mode not supported", "/c.conf")).toContain(
      "selects runc",
    );
    expect(explainPodmanFailure('Error: default OCI runtime "runc" not found: invalid argument', "/c.conf")).toContain(
      "apt-get install runc",
    );
    expect(explainPodmanFailure("error setting rlimit type 7: operation not permitted", "/c.conf")).toContain(
      "default_ulimits",
    );
    expect(explainPodmanFailure("Error: cgroup pids controller missing", "/c.conf")).toContain(
      "pids/memory/cpu limits",
    );
    expect(explainPodmanFailure("Error: something else", "/c.conf")).toBe(
      "podman cannot run a sandbox container.\nError: something else",
    );
  });
});

describe("checkSandboxRuntime (real podman)", () => {
  it("runs a hardened tiny container and returns podman's version", async () => {
    const podman = testPodman();
    await ensureSandboxImage(podman);
    expect(await checkSandboxRuntime({ podman, image: SANDBOX_IMAGE, limits })).toMatch(/^\d+\.\d+/);
  });

  it("passes on a loaded host, where the probe has exited long before the wait reaches podman", async () => {
    const podman = testPodman();
    await ensureSandboxImage(podman);
    const name = `cynodeai-check-slow-${process.pid}`;
    // The wait arrives well after `true` has exited (and, were the probe self-removing, after its removal).
    const slowWait: Podman = {
      ...podman,
      api: {
        ...podman.api,
        wait: async (id) => {
          await Bun.sleep(2000);
          return podman.api.wait(id);
        },
      },
    };
    expect(await checkSandboxRuntime({ podman: slowWait, image: SANDBOX_IMAGE, limits, name })).toMatch(/^\d+\.\d+/);
    // The check removes its probe itself.
    expect((await podman.exec(["container", "exists", name])).exitCode).toBe(1);
  });

  it("explains a missing podman, a missing image and a failed build", async () => {
    const missing = createPodman({ containersConf: "/x", bin: "/nonexistent/podman" });
    await expect(checkSandboxRuntime({ podman: missing, image: SANDBOX_IMAGE, limits })).rejects.toThrow(
      "podman is not usable",
    );
    const podman = testPodman();
    const image = "localhost/cynode-absent:latest";
    await expect(checkSandboxRuntime({ podman, image, limits })).rejects.toThrow("build it with `just images`");
    const failing = checkSandboxRuntime({
      podman,
      image,
      limits,
      buildImage: () => Promise.reject(new Error("no apt")),
    });
    await expect(failing).rejects.toBeInstanceOf(RuntimeCheckError);
    await expect(failing).rejects.toThrow("building it failed: no apt");
  });

  it("explains a container that cannot start with our limits", async () => {
    const podman = testPodman();
    await ensureSandboxImage(podman);
    // A memory limit below what the runtime accepts makes the probe container fail to start.
    await expect(
      checkSandboxRuntime({ podman, image: SANDBOX_IMAGE, limits: { ...limits, memoryMb: 1 } }),
    ).rejects.toThrow("podman cannot");
  });
});

describe("what the sandbox's isolation needs", () => {
  it("requires subordinate ids for user namespaces and says how to add them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-subid-"));
    const good = join(dir, "good");
    const none = join(dir, "none");
    await Bun.write(good, "someone:100000:65536\ncontainers:2147483647:2147483648\n");
    await Bun.write(none, "someone:100000:65536\ncontainers:1:10\n");
    await checkSubordinateIds([good, good]);
    await expect(checkSubordinateIds([good, none])).rejects.toThrow(
      `${none} has no subordinate ids for sandbox user namespaces: add the line \`containers:2147483647:2147483648\``,
    );
    await expect(checkSubordinateIds([join(dir, "absent")])).rejects.toBeInstanceOf(RuntimeCheckError);
    const podman = testPodman();
    await ensureSandboxImage(podman);
    await expect(
      checkSandboxRuntime({ podman, image: SANDBOX_IMAGE, limits, subordinateIdFiles: [none] }),
    ).rejects.toThrow("no subordinate ids");
    expect(explainPodmanFailure("Error: cannot find mappings for user containers", "/c.conf")).toContain(
      "its own user namespace",
    );
  });

  it("makes a sandbox's FIFOs in the mount root, or says the node cannot", async () => {
    const root = await mkdtemp(join(tmpdir(), "cynode-io-check-"));
    await checkSandboxIo(root);
    expect(await readdir(root)).toEqual([]);
    await expect(checkSandboxIo("/proc")).rejects.toThrow();
    const podman = testPodman();
    await ensureSandboxImage(podman);
    const file = join(root, "file");
    await Bun.write(file, "not a directory");
    await expect(checkSandboxRuntime({ podman, image: SANDBOX_IMAGE, limits, mountRoot: file })).rejects.toThrow();
  });
});
