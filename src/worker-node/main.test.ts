import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlaneFixture, type ControlPlaneFixture } from "../testing/control-plane-fixture";
import { ensureProxyImage } from "../testing/inference-runner";
import { TEST_NODE_PSK } from "../testing/node-config";
import { runToExit } from "../testing/run-to-exit";
import { ensureSandboxImage, testPodman } from "../testing/sandbox-fixture";

// The process runs the real start-up checks on podman; under a busy host that takes seconds.
setDefaultTimeout(60_000);
let cp: ControlPlaneFixture;
beforeAll(async () => {
  await Promise.all([ensureSandboxImage(testPodman()), ensureProxyImage(testPodman())]);
  cp = await startControlPlaneFixture();
}, 300_000);
afterAll(() => cp.stop());

/** Runs `worker-node --config <yaml>` from source with only the given environment. */
async function runNode(yaml: string, env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), "cynode-node-main-"));
  await writeFile(join(dir, "node.yaml"), yaml);
  return runToExit([process.execPath, join(import.meta.dir, "main.ts"), "--config", join(dir, "node.yaml")], {
    env: { PATH: process.env.PATH, CYNODE_STATE_DIR: join(dir, "state"), ...env },
  });
}

describe("the worker-node process", () => {
  it("exits 1 with the reason in its log and acks failed when the Ollama it must start cannot run", async () => {
    const { code, stdout, stderr } = await runNode("worker_api: { listen_host: 127.0.0.1, listen_port: 0 }\n", {
      ORCHESTRATOR_URL: cp.url,
      NODE_SLUG: "nm-main-no-ollama",
      NODE_REGISTRATION_PSK: TEST_NODE_PSK,
      OLLAMA_UPSTREAM_URL: "http://127.0.0.1:1",
      OLLAMA_IMAGE: "localhost/cynode-no-such-ollama:latest",
    });
    expect(code).toBe(1);
    expect(stdout + stderr).toContain("inference could not be started");
    expect((await cp.nodeRow("nm-main-no-ollama")).config_ack_status).toBe("failed");
  });

  it("exits 2 on a bad configuration, listing every problem", async () => {
    const { code, stderr } = await runNode("orchestrator: { url: not-a-url }\nworker_api: { listen_port: 99999 }\n", {
      NODE_REGISTRATION_PSK: TEST_NODE_PSK,
    });
    expect(code).toBe(2);
    expect(stderr).toContain("orchestrator.url");
    expect(stderr).toContain("worker_api.listen_port");
  });
});
