import { describe, expect, it } from "bun:test";
import { isShellScript, jobLauncher, newEndMark, shellQuote } from "./launcher";

describe("jobLauncher", () => {
  it("exports the env quoted, arms the deadline, and writes a shell script to a file instead of argv", () => {
    const text = jobLauncher({
      command: ["sh", "-c", "echo 'hi'\necho $0 $1", "name", "a b"],
      env: { A: "it's", B: "$HOME" },
      timeoutSeconds: 30,
      endMark: "cynode-end-1",
    });
    const lines = text.split("\n");
    expect(lines[0]).toBe(`export A='it'\\''s'`);
    expect(lines[1]).toBe(`export B='$HOME'`);
    expect(lines[2]).toBe("(sleep 31; kill -KILL -1) >/dev/null 2>&1 </dev/null &");
    const end = lines[3]!.match(/<<'(CYNODE_JOB_[0-9a-f]{32})'$/)![1];
    expect(lines[3]).toBe(`cat > /tmp/.cynode-job.sh <<'${end}'`);
    expect(lines.slice(4, 6)).toEqual(["echo 'hi'", "echo $0 $1"]);
    expect(lines[6]).toBe(end);
    expect(lines[7]).toBe(`'sh' /tmp/.cynode-job.sh 'a b' </dev/null`);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("reports the job's end on both streams and exits with its status", () => {
    const text = jobLauncher({ command: ["true"], env: {}, timeoutSeconds: 5, endMark: "cynode-end-2" });
    expect(text.split("\n").slice(2)).toEqual([
      "rc=$?",
      "printf '%s' 'cynode-end-2'",
      `printf '%s %s\\n' 'cynode-end-2' "$rc" >&2`,
      'exit "$rc"',
      "",
    ]);
    expect(newEndMark()).toMatch(/^cynode-end-[0-9a-f]{32}$/);
    expect(newEndMark()).not.toBe(newEndMark());
  });

  it("runs any other command as quoted argv with an empty stdin", () => {
    const text = jobLauncher({ command: ["cynode-prompt", "x y"], env: {}, timeoutSeconds: 5, endMark: "m" });
    expect(text.split("\n")[1]).toBe("'cynode-prompt' 'x y' </dev/null");
  });

  it("knows a command that carries a script", () => {
    expect(isShellScript(["sh", "-c", "true"])).toBe(true);
    expect(isShellScript(["/bin/bash", "-c", ""])).toBe(true);
    expect(isShellScript(["sh", "-c"])).toBe(false);
    expect(isShellScript(["python3", "-c", "print(1)"])).toBe(false);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
