/**
 * The chat agent's work outlives its orchestrator (decision 26): a real orchestrator process is killed while its
 * agent waits on the model's next step; a second orchestrator on the same database takes the run over once its
 * lease expires and finishes it from the last checkpoint (the step already done is not run again).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PM_MODEL } from "../../contracts/chat-agent";
import { USER_API } from "../../contracts/routes";
import { memoryLogger } from "../../lib/log";
import { startChatNode, CHAT_NODE_TOKEN, type ChatNode } from "../../testing/chat-node-fixture";
import { freePort } from "../../testing/free-port";
import type { ChatAgentMessage } from "../../testing/ollama-test-server";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { eventually, until } from "../../testing/until";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import { loadConfig } from "../config";
import { startOrchestrator, type RunningOrchestrator } from "../start";

const MODEL = "qwen3.5:0.8b";
const MARKER = "[pm-script: resume]";
const SECRET = "agent-resume-secret-key";
const env = (t: TestDatabase, dir: string) => ({
  DATABASE_URL: t.url,
  USER_GATEWAY_LISTEN_ADDR: `127.0.0.1:${freePort()}`,
  CONTROL_PLANE_LISTEN_ADDR: `127.0.0.1:${freePort()}`,
  NODE_REGISTRATION_PSK: "agent-resume-psk",
  BOOTSTRAP_ADMIN_PASSWORD: "agent-resume-admin",
  JWT_SECRET: "agent-resume-jwt-secret-0123456789abcdef",
  ORCHESTRATOR_SECRET_KEY: SECRET,
  INFERENCE_MODEL: MODEL,
  DISPATCHER_ENABLED: "false",
  CHAT_AGENT_LEASE_DURATION: "1s",
  CYNODE_STATE_DIR: dir,
});

let t: TestDatabase;
let node: ChatNode;
let dir: string;
let second: RunningOrchestrator | undefined;
/** The model's second step waits on this until the first orchestrator is dead. */
let release: () => void = () => {};
const held = new Promise<void>((resolve) => (release = resolve));

const lastTool = (messages: ChatAgentMessage[]) => messages.findLast((m) => m.role === "tool")!.content!;
const script = [
  { tool_calls: [{ name: "models_list", arguments: {} }] },
  async (messages: ChatAgentMessage[]) => {
    await held;
    return { content: `resumed with ${lastTool(messages)}` };
  },
];

beforeAll(async () => {
  [t, node, dir] = await Promise.all([
    createTestDatabase(),
    startChatNode({ models: [MODEL], chatAgentScripts: { [MARKER]: script } }),
    mkdtemp(join(tmpdir(), "cynode-agent-resume-")),
  ]);
  const id = await node.register(t.db, "agent-resume-node");
  const sealed = createSecretBox(keyFromPassphrase(SECRET)).seal(CHAT_NODE_TOKEN);
  await t.db.updateTable("nodes").set({ worker_api_bearer_token: sealed }).where("id", "=", id).execute();
});

afterAll(async () => {
  release();
  await second?.stop();
  await node?.stop();
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function login(url: string) {
  const res = await fetch(new URL(USER_API.login.path(), url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle: "admin", password: "agent-resume-admin" }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("a chat agent run whose orchestrator dies", () => {
  it("is finished by another orchestrator from its last checkpoint", async () => {
    const first = env(t, join(dir, "first"));
    const proc = Bun.spawn(["bun", "src/orchestrator/main.ts"], {
      env: { ...process.env, ...first },
      stdout: "ignore",
      stderr: "ignore",
    });
    const gateway = `http://${first.USER_GATEWAY_LISTEN_ADDR}`;
    await until(
      () =>
        fetch(`${gateway}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      "the first orchestrator",
      { timeoutMs: 60_000 },
    );
    const token = await login(gateway);
    const asked = fetch(new URL(USER_API.chatCompletions.path(), gateway), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: PM_MODEL, messages: [{ role: "user", content: `${MARKER} go on` }] }),
    }).catch((err: Error) => err);
    // The model's second step is asked only once the first step's checkpoint is stored.
    await until(
      () => node.ollama.requests.some((r) => r.path === "/api/chat" && r.body.includes('"role":"tool"')),
      "the second step",
    );
    proc.kill("SIGKILL");
    await proc.exited;
    expect(await asked).toBeInstanceOf(Error);
    release();
    const config = loadConfig(env(t, join(dir, "second")), { stateDir: join(dir, "second") });
    second = await startOrchestrator(config, memoryLogger("second"), { announce: () => {} });
    const answer = await eventually(
      () => t.db.selectFrom("chat_messages").selectAll().where("role", "=", "assistant").executeTakeFirst(),
      "the resumed run's answer",
      { timeoutMs: 30_000 },
    );
    expect(answer.content).toStartWith("resumed with ");
    expect(answer.content).toContain(PM_MODEL);
    const calls = await t.db.selectFrom("chat_tool_calls").select("tool").execute();
    expect(calls.map((c) => c.tool)).toEqual(["models_list"]);
    const lease = await t.db.selectFrom("task_workflow_leases").selectAll().executeTakeFirstOrThrow();
    expect(lease.holder_id).toBeNull();
  }, 120_000);
});
