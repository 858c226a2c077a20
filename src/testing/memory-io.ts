/** An in-memory CliIo for tests: scripted stdin, captured stdout/stderr, a fixed clock and instant sleeps. */
import { createInput } from "../cynork/input";
import type { CliIo } from "../cynork/io";

export type MemoryIoOptions = {
  stdin?: string;
  env?: Record<string, string | undefined>;
  home?: string;
  tty?: boolean;
  fetch?: typeof fetch;
  /** Runs instead of waiting at each poll (e.g. to move a task on); receives the poll number. */
  onSleep?: (n: number) => void | Promise<void>;
};

export type MemoryIo = {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  interrupt(): void;
  sleeps: number[];
  rawMode: boolean[];
};

export function memoryIo(opts: MemoryIoOptions = {}): MemoryIo {
  let out = "";
  let err = "";
  const controller = new AbortController();
  const sleeps: number[] = [];
  const tty = opts.tty ?? false;
  async function* chunks() {
    if (opts.stdin) yield opts.stdin;
  }
  const raw: boolean[] = [];
  return {
    io: {
      env: opts.env ?? {},
      home: opts.home ?? "/nonexistent-home",
      stdin: createInput(chunks(), tty, (on) => raw.push(on)),
      stdout: { write: (s) => void (out += s), isTTY: tty },
      stderr: { write: (s) => void (err += s), isTTY: tty },
      fetch: opts.fetch ?? fetch,
      now: () => new Date("2026-01-02T03:04:05.678Z"),
      async sleep(ms) {
        sleeps.push(ms);
        await opts.onSleep?.(sleeps.length);
      },
      interrupt: controller.signal,
    },
    stdout: () => out,
    stderr: () => err,
    interrupt: () => controller.abort(),
    sleeps,
    rawMode: raw,
  };
}
