import { describe, expect, it } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./cli";
import { memoryIo, type MemoryIoOptions } from "../testing/memory-io";

/** Runs cynork where no gateway is needed (or reachable): usage, help, config and completion paths. */
async function cynork(argv: string[], opts: MemoryIoOptions = {}) {
  const m = memoryIo({ env: { CYNORK_GATEWAY_URL: "http://127.0.0.1:1", CYNORK_TOKEN: "t", ...opts.env }, ...opts });
  const code = await runCli(argv, m.io);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

describe("--version", () => {
  it("answers --version like the version command", async () => {
    const flag = await cynork(["--version"]);
    expect(flag).toEqual(await cynork(["version"]));
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain("version=");
  });
});

describe("usage errors exit 2 with one line on stderr", () => {
  it.each([
    [["bogus"], 'unknown command "bogus" for "cynork"'],
    [["task", "frobnicate"], 'unknown command "frobnicate" for "cynork task"'],
    [["task", "--bogus", "list"], 'unknown flag: --bogus for "cynork task"'],
    [["task", "get"], "Missing required positional argument: TASK"],
    [["task", "get", "a", "b"], "accepts 1 arg(s), received 2"],
    [
      ["task", "list", "--status", "cancelled"],
      "--status must be one of queued, running, completed, failed, canceled, superseded",
    ],
    [["task", "list", "-l", "ten"], "--limit must be an integer"],
    [["task", "list", "--offset", "-1"], "--offset must not be negative"],
    [["task", "logs", "x", "--stream", "both"], "--stream must be one of stdout, stderr, all"],
    [["task", "watch", "x", "-n", "0s"], "--interval must be at least 1s"],
    [["-o", "yaml", "version"], "output must be table or json"],
    [["completion", "powershell"], "shell must be one of bash, zsh, fish"],
  ])("%j", async (argv, message) => {
    const r = await cynork(argv);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: `Error: ${message}\n` });
  });

  it("prints usage and exits 2 when a command group is given no command", async () => {
    const r = await cynork(["auth"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("USAGE cynork auth login|logout|whoami|refresh");
    expect(r.stderr).toEndWith('Error: missing command for "cynork auth"\n');
    expect((await cynork([])).code).toBe(2);
  });

  it("stops on an invalid config file before running any command", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynork-usage-"));
    await writeFile(join(dir, "bad.yaml"), "token: [");
    const r = await cynork(["--config", join(dir, "bad.yaml"), "version"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("Error: load config: ");
    expect(r.stdout).toBe("");
  });

  it("exits 8 on an unexpected failure inside the CLI", async () => {
    const r = await cynork(["status"], { fetch: (() => Promise.reject("not an Error")) as unknown as typeof fetch });
    expect(r.code).toBe(7);
    const boom = await cynork(["task", "get", "x"], {
      fetch: (async () => ({
        status: 200,
        ok: true,
        text: () => Promise.reject(new Error("stream broke")),
      })) as unknown as typeof fetch,
    });
    expect(boom).toMatchObject({ code: 8, stderr: "Error: internal error: stream broke\n" });
  });
});

describe("help", () => {
  it("prints a command's usage on stdout, with colour only on a TTY", async () => {
    const leaf = await cynork(["task", "create", "--help"]);
    expect(leaf.code).toBe(0);
    expect(leaf.stdout).toContain("USAGE cynork task create [OPTIONS]");
    expect(leaf.stdout).toContain("-p, --prompt");
    expect(leaf.stdout).toContain("--use-sba");
    expect(leaf.stdout).toContain("run an agent: -p/-t/-f is its goal");
    expect(leaf.stdout).toEndWith(
      "GLOBAL OPTIONS  -c, --config  -o, --output  --ca-file  -q, --quiet  --no-color  -h, --help\n",
    );
    expect(leaf.stdout).not.toContain("\u001b[");
    const root = await cynork(["-h"], { tty: true });
    expect(root.stdout).toContain("-o, --output");
    const plain = await cynork(["-h", "--no-color"], { tty: true });
    expect(plain.stdout).not.toContain("\u001b[");
  });
});

describe("completion", () => {
  it("prints bash, zsh and fish scripts naming every command and flag", async () => {
    const bash = await cynork(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('"task create") opts="--prompt -p');
    expect(bash.stdout).toContain(
      '"") opts="version status auth task users nodes skills models chat completion --config',
    );
    expect(bash.stdout).toContain('"nodes reset") opts="--yes -y --config');
    expect(bash.stdout).toContain(
      '"chat") opts="--message -m --model --plain --thread-new --thread --project-id --config',
    );
    expect(bash.stdout).toContain("complete -F _cynork cynork");
    expect((await cynork(["completion", "zsh"])).stdout).toStartWith("#compdef cynork\n");
    const fish = (await cynork(["completion", "fish"])).stdout;
    expect(fish).toContain(
      "complete -c cynork -n '__fish_seen_subcommand_from task' -a 'create list get result cancel logs watch artifacts'",
    );
    expect(fish).toContain("complete -c cynork -n '__fish_seen_subcommand_from nodes' -a 'list reset'");
    expect(fish).toContain("complete -c cynork -n '__fish_seen_subcommand_from create' -l attach -l attachment -s a");
    expect(fish).toContain("complete -c cynork -n '__fish_seen_subcommand_from create' -l use-sba");
    expect(bash.stdout).toMatch(/"task create"\) opts="[^"]*--use-sba/);
    expect(fish).toContain("complete -c cynork -l output -s o");
    expect(JSON.parse((await cynork(["-o", "json", "completion", "fish"])).stdout)).toEqual({
      shell: "fish",
      script: fish,
    });
  });
});
