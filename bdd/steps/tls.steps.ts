/**
 * TLS between machines: the real orchestrator with `--tls auto` (or plain HTTP for the control capture), the real
 * worker node pinning its CA, cynork with and without --ca-file, and a recording TCP relay on the node's link to
 * the control-plane (the node is told the relay's URL; the orchestrator's endpoints name it too).
 */
import { After, Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import { join } from "node:path";
import { occurrences, type RecordingRelay, startRecordingRelay } from "../../src/testing/recording-relay";
import { runToExit } from "../../src/testing/run-to-exit";
import { cynorkSession, runCynork } from "../support/cynork";
import { command, freePort } from "../support/managed-process";
import {
  BOOTSTRAP_PASSWORD,
  NODE_PSK,
  type OrchestratorProcess,
  startOrchestrator,
} from "../support/orchestrator-process";
import { spawnWorkerNode, startWorkerNode, type WorkerNode } from "../support/worker-node-process";
import { inferenceUpstream } from "../support/system";
import type { CyWorld } from "../support/world";

/** The operator's Worker API token: it crosses the control-plane in every node's config payload. */
const WORKER_TOKEN = "bdd-tls-worker-api-token-0123456789";

type TlsRun = {
  orchestrator: OrchestratorProcess;
  relay: RecordingRelay;
  tls: boolean;
  caFile: string;
  node?: WorkerNode;
  exit?: { code: number; output: string };
  cleanups: (() => Promise<void>)[];
};
type TlsWorld = CyWorld & { tlsRun?: TlsRun };
const run = (w: CyWorld) => (w as TlsWorld).tlsRun!;

Given("an orchestrator with {string} behind a recording relay", async function (this: CyWorld, mode: string) {
  const tls = mode === "--tls auto";
  const [cpPort, relayPort] = [await freePort(), await freePort()];
  const scheme = tls ? "https" : "http";
  const relay = await startRecordingRelay({ hostname: "127.0.0.1", port: cpPort }, relayPort);
  const orchestrator = await startOrchestrator(
    {
      ...(tls ? { ORCHESTRATOR_TLS: "auto" } : {}),
      ORCHESTRATOR_PUBLIC_URL: `${scheme}://127.0.0.1:${relayPort}`,
      WORKER_API_BEARER_TOKEN: WORKER_TOKEN,
    },
    { controlPlanePort: cpPort },
  ).catch((err) => {
    relay.stop();
    throw err;
  });
  const caFile = join(orchestrator.stateDir, "tls", "ca.pem");
  (this as TlsWorld).tlsRun = {
    orchestrator,
    relay,
    tls,
    caFile,
    cleanups: [orchestrator.stop, async () => relay.stop()],
  };
});

async function nodeEnv(w: CyWorld, pin?: string): Promise<Record<string, string>> {
  const r = run(w);
  return {
    ORCHESTRATOR_URL: `${r.tls ? "https" : "http"}://127.0.0.1:${r.relay.port}`,
    OLLAMA_UPSTREAM_URL: (await inferenceUpstream()).url,
    ...(pin ? { ORCHESTRATOR_CA_SHA256: pin } : {}),
  };
}

When("a node starts pinning the CA digest {string}", async function (this: CyWorld, pin: string) {
  const r = run(this);
  const node = await spawnWorkerNode({ orchestratorUrl: "", slug: "tls-wrong-pin", env: await nodeEnv(this, pin) });
  r.cleanups.push(node.cleanup);
  const code = await node.process.exitCodeWithin(120_000);
  r.exit = { code, output: node.process.output() };
});

Then("the node exits with code {int} and the one line {string}", function (this: CyWorld, code: number, text: string) {
  const { exit } = run(this);
  expect(exit!.code).toBe(code);
  const lines = exit!.output.split("\n").filter((l) => l.includes(text));
  expect(lines.length).toBeGreaterThan(0);
  console.log(`figure: wrong pin → exit ${exit!.code}: ${lines.at(-1)}`);
});

async function startNode(w: CyWorld, slug: string, pin?: string) {
  const r = run(w);
  r.node = await startWorkerNode({ orchestratorUrl: "", slug, env: await nodeEnv(w, pin) });
  r.cleanups.push(r.node.stop);
}

When("a node starts pinning the CA digest join-command prints", async function (this: CyWorld) {
  const r = run(this);
  const out = await runToExit(
    [...command("orchestrator"), "join-command", "--tls", "auto", "--state-dir", r.orchestrator.stateDir],
    { env: { ...process.env, ORCHESTRATOR_PUBLIC_URL: `https://127.0.0.1:${r.relay.port}` } },
  );
  expect(out.code).toBe(0);
  expect(out.stdout).not.toContain(NODE_PSK);
  const pin = /^ORCHESTRATOR_CA_SHA256=(sha256:[0-9a-f]{64})$/m.exec(out.stdout)?.[1];
  expect(pin).toBeDefined();
  await startNode(this, "tls-right-pin", pin);
});

When("a node starts with no CA pin", function (this: CyWorld) {
  return startNode(this, "plain-node");
});

Then("its Worker API URL starts with {string}", function (this: CyWorld, prefix: string) {
  expect(run(this).node!.workerApiUrl.startsWith(prefix)).toBe(true);
});

async function cynorkRun(w: CyWorld, args: string[], stdin?: string) {
  const r = run(w);
  const session = await cynorkSession(r.orchestrator.gatewayUrl);
  r.cleanups.push(session.cleanup);
  return runCynork(session, args, { stdin });
}

Then("cynork without --ca-file fails with {string}", async function (this: CyWorld, text: string) {
  const out = await cynorkRun(this, ["auth", "login", "-u", "admin", "--password-stdin"], `${BOOTSTRAP_PASSWORD}\n`);
  expect(out.code).toBe(7);
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
  expect(out.stderr).toContain(text);
  console.log(`figure: cynork without --ca-file → exit ${out.code}: ${out.stderr.trim()}`);
});

Then(
  "a commands task {string} run with cynork --ca-file completes with stdout {string}",
  async function (this: CyWorld, cmd: string, stdout: string) {
    const r = run(this);
    const session = await cynorkSession(r.orchestrator.gatewayUrl);
    r.cleanups.push(session.cleanup);
    const ca = ["--ca-file", r.caFile];
    const login = await runCynork(session, [...ca, "auth", "login", "-u", "admin", "--password-stdin"], {
      stdin: `${BOOTSTRAP_PASSWORD}\n`,
    });
    expect(login.code).toBe(0);
    const task = await runCynork(session, [...ca, "-o", "json", "task", "create", "--command", cmd, "--result"]);
    expect(task.code).toBe(0);
    expect(task.stdout).toContain(stdout);
    expect(task.stdout).toContain('"completed"');
  },
);

function secretsSeen(r: TlsRun) {
  const bytes = r.relay.captured();
  const seen = {
    bytes: bytes.length,
    psk: occurrences(bytes, NODE_PSK),
    nodeJwt: occurrences(bytes, "Bearer eyJ"),
    workerToken: occurrences(bytes, WORKER_TOKEN),
  };
  console.log(`figure: relay capture (${r.tls ? "TLS" : "plain HTTP"}): ${JSON.stringify(seen)}`);
  return seen;
}

Then("the relay carried no PSK, node token or Worker API token in clear", function (this: CyWorld) {
  const seen = secretsSeen(run(this));
  expect(seen.bytes).toBeGreaterThan(1000);
  expect({ psk: seen.psk, nodeJwt: seen.nodeJwt, workerToken: seen.workerToken }).toEqual({
    psk: 0,
    nodeJwt: 0,
    workerToken: 0,
  });
});

Then("the relay carried the PSK, a node token and the Worker API token in clear", function (this: CyWorld) {
  const seen = secretsSeen(run(this));
  expect(seen.psk).toBeGreaterThan(0);
  expect(seen.nodeJwt).toBeGreaterThan(0);
  expect(seen.workerToken).toBeGreaterThan(0);
});

After(async function (this: CyWorld) {
  const r = (this as TlsWorld).tlsRun;
  if (!r) return;
  for (const f of r.cleanups.reverse()) await f();
});
