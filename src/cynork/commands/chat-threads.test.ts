/** `cynork chat` with the chat agent: threads, projects and slash commands, against a real gateway and chat node. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { startChatNode, type ChatNode } from "../../testing/chat-node-fixture";
import { useCynorkFixture } from "../../testing/cynork-fixture";
import { PASSWORD } from "../../testing/gateway-fixture";
import { testReply } from "../../testing/ollama-test-server";
import { SLASH_HELP } from "./chat-slash";

const f = useCynorkFixture({ deps: { chat: { openToken: (s) => s, defaultModel: "qwen3.5:0.8b" } } });
const { cynork } = f;
let node: ChatNode;

beforeAll(async () => {
  node = await startChatNode({ models: ["qwen3.5:0.8b"] });
  await node.register(f.t.db, "cynork-pm-node");
  const login = await cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  expect(login.code).toBe(0);
});
afterAll(() => node?.stop());

const lastChat = () => JSON.parse(node.ollama.requests.findLast((r) => r.path === "/api/chat")!.body);
const said = () => lastChat().messages.map((m: { role: string; content: string }) => `${m.role}: ${m.content}`);
const threadOf = (stderr: string) => /New thread started: (\S+)/.exec(stderr)![1]!;
const threads = () => f.t.db.selectFrom("chat_threads").selectAll().where("user_id", "=", f.users.alice!);

describe("cynork chat with the chat agent", () => {
  it("--thread-new starts a thread; --thread continues it, the gateway holding the history", async () => {
    const first = await cynork(["chat", "--thread-new", "-m", "remember green", "--plain"]);
    expect([first.code, first.stdout]).toEqual([0, `${testReply("remember green")}\n`]);
    const id = threadOf(first.stderr);
    await cynork(["chat", "--thread", id, "-m", "which colour?", "--plain"]);
    expect(said().slice(1)).toEqual([
      "user: remember green",
      `assistant: ${testReply("remember green")}`,
      "user: which colour?",
    ]);
    const other = await cynork(["chat", "--thread-new", "-m", "fresh", "--plain"]);
    expect(threadOf(other.stderr)).not.toBe(id);
    expect(said().slice(1)).toEqual(["user: fresh"]);
  });

  it("--project-id scopes the thread (anything but a UUID is no project, never an error)", async () => {
    const project = crypto.randomUUID();
    const r = await cynork(["chat", "--thread-new", "--project-id", project, "-m", "hi", "--plain"]);
    const row = await threads().where("id", "=", threadOf(r.stderr)).executeTakeFirstOrThrow();
    expect(row.project_id).toBe(project);
    expect(lastChat().messages[0].content).toContain(`project_id: ${project}`);
    expect((await cynork(["chat", "--project-id", "not-a-uuid", "-m", "hi", "--plain"])).code).toBe(0);
  });

  it("keeps one thread for a session's lines, and answers -o json with the completion", async () => {
    const r = await cynork(["chat", "--plain"], { stdin: "one\ntwo\n" });
    expect(r.stdout).toBe(`${testReply("one")}\n${testReply("two")}\n`);
    expect(said().slice(-3)).toEqual(["user: one", `assistant: ${testReply("one")}`, "user: two"]);
    const json = JSON.parse((await cynork(["-o", "json", "chat", "-m", "j"])).stdout);
    expect([json.model, json.choices[0].message.content]).toEqual(["cynodeai.pm", testReply("j")]);
  });

  it("runs slash commands without sending them, and goes on after an unknown one", async () => {
    const stdin = [
      "/help",
      "/model",
      "/model qwen3.5:0.8b",
      "/models",
      "/whoami",
      "/status",
      "/tasks",
      "/task nope",
      "/thread new",
      "/thread",
      "/clear",
      "/nope",
      "after",
      "/EXIT",
      "never",
    ].join("\n");
    const before = node.ollama.requests.length;
    const r = await cynork(["chat", "--plain"], { stdin: `${stdin}\n` });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(SLASH_HELP);
    expect(r.stderr).toContain("Model: cynodeai.pm\nModel: qwen3.5:0.8b\n");
    expect(r.stdout).toContain("qwen3.5:0.8b\n");
    expect(r.stdout).toContain("alice");
    expect(r.stdout).toEndWith(`${testReply("after")}\n`);
    expect(r.stderr.match(/New thread started/g)?.length).toBe(2);
    expect(r.stderr.match(/Unknown command\. Type \/help for available commands\./g)?.length).toBe(2);
    expect(r.stderr).toContain("Error:");
    const chats = node.ollama.requests.slice(before).filter((q) => q.path === "/api/chat");
    expect(chats.length).toBe(1);
    expect(lastChat()).toMatchObject({ model: "qwen3.5:0.8b", stream: true });
  });
});
