import { beforeAll, describe, expect, it } from "bun:test";
import { chmod, mkdir, mkdtemp, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "../../errors";
import { parseFlags } from "../../flags";
import createCommand, { INPUT_LIMITS, buildCreateTaskRequest } from "./create";

let dir: string;
const file = (name: string) => join(dir, name);
// The create command's own declaration, so these tests parse exactly what `cynork task create` accepts.
const { args, repeatable } = createCommand;
const build = (argv: string[]) => buildCreateTaskRequest(parseFlags(argv, args!, repeatable));

async function usage(argv: string[]): Promise<string> {
  try {
    await build(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error("expected a usage error");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cynork-input-"));
  await writeFile(file("ok.txt"), "do it");
  await writeFile(file("big.sh"), "");
  await truncate(file("big.sh"), INPUT_LIMITS.script + 1);
  await symlink(file("ok.txt"), file("link.txt"));
  await mkdir(file("a-dir"));
  await writeFile(file("blank.txt"), "\n\n");
  await writeFile(file("secret.txt"), "x");
  await chmod(file("secret.txt"), 0o000);
});

describe("task create --use-sba", () => {
  it("sends use_sba with the goal from -p, -t or -f", async () => {
    expect(await build(["-p", "count the interfaces", "--use-sba"])).toEqual({
      prompt: "count the interfaces",
      input_mode: "prompt",
      use_sba: true,
    });
    expect(await build(["-t", "goal", "--use-sba"])).toMatchObject({ prompt: "goal", use_sba: true });
    expect(await build(["-f", file("ok.txt"), "--use-sba"])).toMatchObject({ prompt: "do it", use_sba: true });
  });

  it("refuses a script or commands as an agent's goal", async () => {
    expect(await usage(["-s", file("ok.txt"), "--use-sba"])).toBe("--use-sba takes its goal from -p, -t or -f");
    expect(await usage(["--command", "ls", "--use-sba"])).toBe("--use-sba takes its goal from -p, -t or -f");
  });
});

describe("task create --allow-host", () => {
  it("sends each host given, in order, as allowed_hosts", async () => {
    expect(await build(["-s", file("ok.txt"), "--allow-host", "pypi.org", "--allow-host", "127.0.0.2:8080"])).toEqual({
      prompt: "do it",
      input_mode: "script",
      allowed_hosts: ["pypi.org", "127.0.0.2:8080"],
    });
  });
});

describe("task create input", () => {
  it("maps each input mode to input_mode and prompt", async () => {
    expect(await build(["-p", "hi"])).toEqual({ prompt: "hi", input_mode: "prompt" });
    expect(await build(["--task", "hi", "--name", "n", "--use-inference"])).toEqual({
      prompt: "hi",
      input_mode: "prompt",
      task_name: "n",
      use_inference: true,
    });
    expect(await build(["-f", file("ok.txt")])).toEqual({ prompt: "do it", input_mode: "prompt" });
    expect(await build(["-s", file("ok.txt")])).toEqual({ prompt: "do it", input_mode: "script" });
    expect(await build(["--command", "a", "--command", "b"])).toEqual({ prompt: "a\nb", input_mode: "commands" });
  });

  it("relabels only prompt text with --input-mode and lower-cases the project id", async () => {
    expect((await build(["-p", "ls", "--input-mode", "commands"])).input_mode).toBe("commands");
    expect((await build(["-s", file("ok.txt"), "--input-mode", "prompt"])).input_mode).toBe("script");
    const id = "0F0E0D0C-0B0A-4908-8706-050403020100";
    expect((await build(["-p", "x", "--project-id", id])).project_id).toBe(id.toLowerCase());
  });

  it("requires exactly one input mode", async () => {
    for (const argv of [
      [],
      ["-p", ""],
      ["-p", "a", "-t", "b"],
      ["-p", "a", "--command", "ls"],
      ["-s", file("ok.txt"), "--commands-file", file("ok.txt")],
    ])
      expect(await usage(argv)).toBe("exactly one task input mode is required");
  });

  it("checks files before any request: missing, symlink, directory, too large, unreadable, empty", async () => {
    expect(await usage(["-f", file("nope.txt")])).toBe(`task file ${file("nope.txt")}: no such file`);
    expect(await usage(["-f", file("link.txt")])).toBe(`task file ${file("link.txt")}: not a regular file`);
    expect(await usage(["--commands-file", file("a-dir")])).toBe(`commands file ${file("a-dir")}: not a regular file`);
    expect(await usage(["-s", file("big.sh")])).toBe(
      `script ${file("big.sh")}: larger than ${INPUT_LIMITS.script} bytes`,
    );
    expect(await usage(["--commands-file", file("blank.txt")])).toBe("the task input is empty");
    if (process.getuid?.() !== 0)
      expect(await usage(["-f", file("secret.txt")])).toStartWith(`task file ${file("secret.txt")}: not readable`);
  });

  it("validates options and attachments", async () => {
    expect(await usage(["-p", "x", "--input-mode", "shell"])).toBe(
      "--input-mode must be one of prompt, script, commands",
    );
    expect(await usage(["-p", "x", "--project-id", "nope"])).toBe("--project-id must be a UUID");
    expect(await usage(["-p", "x", "-a", file("a-dir")])).toBe(`attachment ${file("a-dir")}: not a regular file`);
    const many = Array.from({ length: INPUT_LIMITS.attachments + 1 }, () => ["-a", file("ok.txt")]).flat();
    expect(await usage(["-p", "x", ...many])).toBe("at most 16 attachments are allowed");
  });
});
