/** `cynork models list` and `cynork chat` in-process against a real gateway and a chat node (Ollama TEST DOUBLE). */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { startChatNode, type ChatNode } from "../../testing/chat-node-fixture";
import { useCynorkFixture } from "../../testing/cynork-fixture";
import { PASSWORD } from "../../testing/gateway-fixture";
import { testReply } from "../../testing/ollama-test-server";

const f = useCynorkFixture({ deps: { chat: { openToken: (s) => s, defaultModel: "qwen3.5:0.8b" } } });
const { cynork } = f;
let node: ChatNode;

beforeAll(async () => {
  node = await startChatNode({ models: ["qwen3.5:0.8b", "other:1b"] });
  await node.register(f.t.db, "cynork-chat-node");
  const login = await cynork(["auth", "login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  expect(login.code).toBe(0);
});
afterAll(() => node?.stop());

const lastChat = () => JSON.parse(node.ollama.requests.findLast((r) => r.path === "/api/chat")!.body);

describe("cynork models list", () => {
  it("prints one model id per line, and the OpenAI list with -o json", async () => {
    expect(await cynork(["models", "list"])).toMatchObject({
      code: 0,
      stdout: "cynodeai.pm\nother:1b\nqwen3.5:0.8b\n",
    });
    const json = JSON.parse((await cynork(["-o", "json", "models", "list"])).stdout);
    expect([json.object, json.data.map((m: { id: string }) => m.id)]).toEqual([
      "list",
      ["cynodeai.pm", "other:1b", "qwen3.5:0.8b"],
    ]);
  });

  it("exits 3 without a token", async () => {
    const r = await cynork(["-c", join(f.dir, "none.yaml"), "models", "list"]);
    expect([r.code, r.stderr]).toEqual([3, "Error: not logged in: run 'cynork auth login'\n"]);
  });
});

describe("cynork chat", () => {
  it("-m sends one message and prints the streamed reply", async () => {
    const r = await cynork(["chat", "-m", "hello there", "--plain"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${testReply("hello there")}\n`, ""]);
    // The default is the chat agent: it asks the node's model with its tools, one whole answer per turn.
    expect(lastChat()).toMatchObject({ model: "qwen3.5:0.8b", stream: false });
    expect(lastChat().tools.length).toBeGreaterThan(5);
  });

  it("renders the reply's Markdown (ASCII without a TTY) unless --plain asks for it as sent", async () => {
    const message = "**strong** and `code`";
    const rendered = await cynork(["chat", "-m", message]);
    expect([rendered.code, rendered.stdout]).toEqual([0, `${testReply("strong and code")}\n`]);
    const plain = await cynork(["chat", "-m", message, "--plain"]);
    expect([plain.code, plain.stdout]).toEqual([0, `${testReply(message)}\n`]);
    const tty = await cynork(["chat", "-m", message], { tty: true });
    expect(tty.stdout).toBe(`${testReply("\u001b[1mstrong\u001b[0m and \u001b[36mcode\u001b[0m")}\n`);
    expect((await cynork(["--no-color", "chat", "-m", message], { tty: true })).stdout).toBe(rendered.stdout);
  });

  it("--model picks the model; -o json prints the chat.completion", async () => {
    const r = await cynork(["-o", "json", "chat", "--model", "other:1b", "-m", "hi"]);
    const done = JSON.parse(r.stdout);
    expect([r.code, done.object, done.model, done.choices[0].message.content]).toEqual([
      0,
      "chat.completion",
      "other:1b",
      testReply("hi"),
    ]);
  });

  it("reads one message per line, keeps the conversation, and ends at end of input", async () => {
    const r = await cynork(["chat", "--model", "qwen3.5:0.8b"], { stdin: "first\n\n/unknown\nsecond\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([testReply("first"), testReply("second"), ""].join("\n"));
    expect(r.stderr).toBe("Unknown command. Type /help for available commands.\n");
    expect(lastChat().messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("on a TTY shows a prompt per line and stops at /exit", async () => {
    const r = await cynork(["chat"], { stdin: "one\n/exit\nnever sent\n", tty: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${testReply("one")}\n`);
    expect(r.stderr).toBe(
      "Type a message and press Enter; /help lists commands, /exit or Ctrl+D ends the chat.\n> > \n",
    );
  });

  it("reports a failed turn and goes on; -m exits with the gateway error's code", async () => {
    const r = await cynork(["chat", "--model", "missing"], { stdin: "a\n/quit\n" });
    expect([r.code, r.stderr]).toEqual([0, "Error: 404 Not Found: The model 'missing' does not exist\n"]);
    const one = await cynork(["chat", "--model", "missing", "-m", "a"]);
    expect([one.code, one.stderr]).toEqual([4, "Error: 404 Not Found: The model 'missing' does not exist\n"]);
  });
});
