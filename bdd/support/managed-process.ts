/**
 * A child process the suite (or the benchmarks) started: its output kept for assertions and failure reports, lines
 * awaited, stopped for sure.
 */
import { join, resolve } from "node:path";

export const root = resolve(import.meta.dir, "..", "..");

/** The argv of one of our executables: its source entrypoint, or dist/bin with CYNODE_BDD_BINARIES=1. */
export function command(name: string): string[] {
  return process.env.CYNODE_BDD_BINARIES === "1"
    ? [join(root, "dist", "bin", name)]
    : ["bun", join(root, "src", name, "main.ts")];
}

export { freePort } from "../../src/testing/free-port";

export type ManagedProcess = {
  name: string;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first line (past or future) matching `re`; rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** The JSON log lines whose `msg` is `msg`, parsed. */
  logLines(msg: string): Record<string, unknown>[];
  /** Every JSON log line so far, parsed. */
  jsonLines(): Record<string, unknown>[];
  /** Stops keeping output, so a chatty process under load costs its observer nothing. */
  mute(): void;
  exited: Promise<number>;
  /** The exit code, or an error naming what the process printed if it is still running after `timeoutMs`. */
  exitCodeWithin(timeoutMs: number): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
};

export type StartOptions = {
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Also append everything the process writes to this file. */
  logFile?: string;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Own process group: a terminal's Ctrl+C reaches only the parent, which then stops the child in order. */
  detached?: boolean;
};

export function startProcess(name: string, argv: string[], opts: StartOptions = {}): ManagedProcess {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    detached: opts.detached,
  });
  const log = opts.logFile ? Bun.file(opts.logFile).writer() : undefined;
  let text = "";
  let ended = false;
  let muted = false;
  const waiters = new Set<() => void>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      if (muted) continue;
      text += decoder.decode(chunk, { stream: true });
      log?.write(chunk);
      log?.flush();
      for (const w of waiters) w();
    }
  };
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]);
  const exited = proc.exited.then(async (code) => {
    await drained;
    await log?.end();
    ended = true;
    for (const w of waiters) w();
    return code;
  });

  const jsonLines = () =>
    text.split("\n").flatMap((l) => {
      if (!l.startsWith("{")) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // not a log line, or one still being written
      }
    });

  return {
    name,
    pid: proc.pid,
    output: () => text,
    logLines: (msg) => jsonLines().filter((l) => l.msg === msg),
    jsonLines,
    mute: () => void (muted = true),
    exited,
    async exitCodeWithin(timeoutMs) {
      let timer: Timer | undefined;
      const timeout = new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`${name} still runs after ${timeoutMs} ms:\n${text}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    waitForLine(re, timeoutMs = 90_000) {
      return new Promise((ok, fail) => {
        const timer = setTimeout(
          () => done(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms:\n${text}`)),
          timeoutMs,
        );
        const check = () => {
          const line = text
            .split("\n")
            .slice(0, -1)
            .find((l) => re.test(l)); // complete lines only
          if (line !== undefined) return done(undefined, line);
          if (ended) done(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${text}`));
        };
        const done = (err?: Error, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) fail(err);
          else ok(line!);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 15_000) {
      if (ended) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The value of `field` in a JSON log line. */
export function logField(line: string, field: string): string {
  const value = (JSON.parse(line) as Record<string, unknown>)[field];
  if (typeof value !== "string") throw new Error(`log line has no ${field}: ${line}`);
  return value;
}
