/**
 * Issue 18's promise, checked end to end: the compiled `worker-node` and `inference-proxy`, copied alone into an
 * empty directory, build their images (under names of their own, so other tests are unaffected), register with a
 * real orchestrator and run a commands task and an inference task (through the Ollama test double).
 *
 * The binaries are compiled here (into a temp dir, not dist/bin, which other runs may be using): `just test` runs
 * `bun test` before anything builds dist/, and this file then needs nothing but a clone.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cynorkSession, runCynork, type CynorkSession } from "../../../bdd/support/cynork";
import { root, startProcess, type ManagedProcess } from "../../../bdd/support/managed-process";
import { BOOTSTRAP_PASSWORD, NODE_PSK, startOrchestrator } from "../../../bdd/support/orchestrator-process";
import { startOllamaTestServer, testReply } from "../../testing/ollama-test-server";
import { runToExit } from "../../testing/run-to-exit";
import { testPodman } from "../../testing/sandbox-fixture";

const podman = testPodman();
const tag = `${process.pid}-${crypto.randomUUID().slice(0, 6)}`;
const sandboxImage = `localhost/cynode-sandbox-selftest-${tag}:latest`;
const proxyImage = `localhost/cynode-inference-proxy-selftest-${tag}:latest`;
const model = "qwen3.5:0.8b";
const cleanup: (() => Promise<unknown>)[] = [];
let nodeDir = "";

afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

beforeAll(async () => {
  const buildDir = await tempDir("cynode-selftest-build-");
  const build = await runToExit(["bun", "build.ts", "--outdir", buildDir, "worker-node", "inference-proxy"], {
    cwd: root,
  });
  if (build.code !== 0) throw new Error(`bun build.ts failed (${build.code}):\n${build.stdout}\n${build.stderr}`);
  nodeDir = await tempDir("cynode-selftest-node-");
  for (const name of ["worker-node", "inference-proxy"]) await copyFile(join(buildDir, name), join(nodeDir, name));
  await Bun.$`chmod 755 ${join(nodeDir, "worker-node")} ${join(nodeDir, "inference-proxy")}`;
  cleanup.push(() => podman.exec(["rmi", "--force", sandboxImage, proxyImage]));
  await podman.exec(["rmi", "--force", sandboxImage, proxyImage]);
}, 600_000);

/** Starts the copied node from its own directory and returns it once ready, with how long that took. */
async function startCopiedNode(orchestratorUrl: string, upstreamUrl: string, slug: string) {
  const configPath = join(nodeDir, "node.yaml");
  await writeFile(
    configPath,
    [
      "orchestrator:",
      `  url: ${orchestratorUrl}`,
      "node:",
      `  id: ${slug}`,
      "worker_api: { listen_host: 127.0.0.1, listen_port: 0 }",
      "sandbox:",
      `  default_image: ${sandboxImage}`,
      "  resources: { max_cpu_cores: 1, max_memory_mb: 256, max_pids: 64 }",
      "inference:",
      `  upstream_url: ${upstreamUrl}`,
      `  proxy_image: ${proxyImage}`,
      `storage: { state_dir: ${join(nodeDir, "state")} }`,
      "",
    ].join("\n"),
  );
  const started = performance.now();
  const proc: ManagedProcess = startProcess(
    `copied worker-node ${slug}`,
    [join(nodeDir, "worker-node"), "--config", configPath],
    { cwd: nodeDir, env: { NODE_REGISTRATION_PSK: NODE_PSK, LOG_LEVEL: "info" } },
  );
  cleanup.push(() => proc.stop());
  await proc.waitForLine(/"msg":"node ready"/, 480_000);
  return { proc, seconds: (performance.now() - started) / 1000 };
}

describe("a worker node from copied files alone", () => {
  it("builds its images, then runs a commands task and an inference task; a restart reuses the images", async () => {
    const upstream = await startOllamaTestServer({ port: 0, hostname: "127.0.0.1", models: [model] });
    cleanup.push(() => upstream.stop());
    const orchestrator = await startOrchestrator({ SANDBOX_IMAGE: sandboxImage, INFERENCE_MODEL: model });
    cleanup.push(() => orchestrator.stop());
    const slug = `selftest-${tag}`;
    // If the node dies before cleaning up, its pods and containers (labelled with its slug) go here.
    cleanup.push(async () => {
      const filter = `--filter=label=cynodeai.node=${slug}`;
      const pods = (await podman.exec(["pod", "ps", "-q", filter])).stdout.split("\n").filter(Boolean);
      if (pods.length) await podman.exec(["pod", "rm", "--force", "--time=0", ...pods]);
      const left = (await podman.exec(["ps", "-aq", filter])).stdout.split("\n").filter(Boolean);
      if (left.length) await podman.exec(["rm", "--force", "--time=0", ...left]);
    });

    const first = await startCopiedNode(orchestrator.controlPlaneUrl, upstream.url!, slug);
    const lines = first.proc.jsonLines().map((l) => String(l.msg));
    expect(lines).toContain(`building ${sandboxImage}: it is missing`);
    expect(lines).toContain(`building ${proxyImage}: it is missing`);
    expect(lines.some((l) => l.startsWith(`staged ${join(nodeDir, "inference-proxy")} with `))).toBe(true);
    for (const image of [sandboxImage, proxyImage])
      expect(lines.filter((l) => l.startsWith(`built ${image} in `)).length).toBe(1);

    const session: CynorkSession = await cynorkSession(orchestrator.gatewayUrl);
    cleanup.push(() => session.cleanup());
    const login = await runCynork(session, ["auth", "login", "-u", "admin", "--password-stdin"], {
      stdin: `${BOOTSTRAP_PASSWORD}\n`,
    });
    expect(login.code).toBe(0);
    const commands = await runCynork(session, [
      "-o",
      "json",
      "task",
      "create",
      "--command",
      "echo from a copied node",
      "--result",
    ]);
    expect(JSON.parse(commands.stdout)).toMatchObject({ status: "completed", stdout: "from a copied node\n" });
    const prompt = "Say hello from a copied node";
    const inference = await runCynork(session, ["-o", "json", "task", "create", "-p", prompt, "--result"]);
    const result = JSON.parse(inference.stdout);
    expect(result.status).toBe("completed");
    expect(result.stdout.trim()).toBe(testReply(prompt).trim());

    await first.proc.stop();
    const second = await startCopiedNode(orchestrator.controlPlaneUrl, upstream.url!, slug);
    expect(second.proc.jsonLines().filter((l) => String(l.msg).startsWith("building "))).toEqual([]);
    // Reported, never asserted: the figures the issue asks for (first start with and without the images).
    console.log(
      `copied worker-node, start to ready: ${first.seconds.toFixed(1)} s building both images (${lines.filter((l) => l.startsWith("built ")).join("; ")}), ${second.seconds.toFixed(1)} s with them present`,
    );
  }, 900_000);
});
