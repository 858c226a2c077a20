import { afterAll, describe, expect, it } from "bun:test";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPodman } from "../src/worker-node/sandbox/podman";
import { imageLabels, VERSION_LABEL } from "../src/worker-node/images/ensure-image";
import { buildImage, buildVersion, hashTree, imageName, main } from "./build-image";

const podman = createPodman({ containersConf: join(import.meta.dir, "containers.conf") });
const quiet = () => {};

describe("hashTree", () => {
  it("changes when a file changes and not otherwise", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-hash-"));
    await writeFile(join(dir, "a"), "1");
    const first = await hashTree(dir);
    expect(await hashTree(dir)).toBe(first);
    await writeFile(join(dir, "a"), "2");
    expect(await hashTree(dir)).not.toBe(first);
  });
});

describe("buildImage (real podman)", () => {
  const name = `test-fixture-${process.pid}`;
  afterAll(() => podman.exec(["rmi", "--force", imageName(name)]));

  it("stages files with prepare.ts, builds once, then skips while inputs are unchanged", async () => {
    const containersDir = await mkdtemp(join(tmpdir(), "cynode-containers-"));
    await mkdir(join(containersDir, name));
    await writeFile(join(containersDir, name, "Containerfile"), "FROM scratch\nCOPY staged.txt /staged.txt\n");
    await writeFile(
      join(containersDir, name, "prepare.ts"),
      'export async function prepare({ contextDir }) { await Bun.write(contextDir + "/staged.txt", "hi"); }\n',
    );
    const first = await buildImage({ name, podman, containersDir, log: quiet });
    expect(first).toMatchObject({ image: `localhost/cynode-${name}:latest`, built: true });
    const labels = await imageLabels(podman, imageName(name));
    expect(labels?.[VERSION_LABEL]).toBe(buildVersion());
    expect(buildVersion()).toMatch(/^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
    const again = await buildImage({ name, podman, containersDir, log: quiet });
    expect(again).toEqual({ ...first, built: false });
    expect((await buildImage({ name, podman, containersDir, log: quiet, force: true })).built).toBe(true);
  });

  it("explains a missing Containerfile, a bad name and a failing build", async () => {
    const containersDir = await mkdtemp(join(tmpdir(), "cynode-containers-"));
    await expect(buildImage({ name: "absent", podman, containersDir, log: quiet })).rejects.toThrow("no Containerfile");
    await expect(buildImage({ name: "../x", podman, containersDir, log: quiet })).rejects.toThrow("invalid image name");
    await mkdir(join(containersDir, "broken"));
    await writeFile(join(containersDir, "broken", "Containerfile"), "FROM scratch\nCOPY missing.txt /\n");
    await expect(buildImage({ name: "broken", podman, containersDir, log: quiet })).rejects.toThrow(
      "podman build of localhost/cynode-broken:latest failed",
    );
  });

  it("builds the sandbox image with a shell, the tools jobs expect and CA certificates", async () => {
    const { image } = await buildImage({ name: "sandbox", podman, log: quiet });
    const tools = "sh tar gzip unzip ps env wget nc sed awk grep";
    const r = await podman.exec([
      "run",
      "--rm",
      "--network=none",
      image,
      "sh",
      "-c",
      `for t in ${tools}; do command -v $t >/dev/null || echo missing $t; done; test -s $SSL_CERT_FILE && pwd`,
    ]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "/workspace\n" });
  });
});

describe("build-image command line", () => {
  it("prints usage, reports failures and builds by name", async () => {
    const lines: string[] = [];
    expect(await main([], (l) => lines.push(l))).toBe(2);
    expect(await main(["absent"], (l) => lines.push(l))).toBe(1);
    expect(await main(["sandbox"], (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toStartWith("usage:");
    expect(lines[1]).toStartWith("no Containerfile");
  });
});
