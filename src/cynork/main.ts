/** cynork entrypoint: wires the real process into runCli and exits with its code once output is flushed. */
import { homedir } from "node:os";
import type { Writable } from "node:stream";
import { runCli } from "./cli";
import { createInput } from "./input";
import { sleep } from "./io";

const interrupt = new AbortController();
process.on("SIGINT", () => {
  // First Ctrl+C ends a wait quietly; a second one ends the process.
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

// process.exit drops output still queued for a pipe, so every write is awaited before exiting.
const pending: Promise<unknown>[] = [];
const writer = (stream: Writable & { isTTY?: boolean }) => ({
  write: (text: string) => void pending.push(new Promise((done) => stream.write(text, done))),
  isTTY: Boolean(stream.isTTY),
});

const stdin = process.stdin;
const code = await runCli(process.argv.slice(2), {
  env: process.env,
  home: homedir(),
  stdin: createInput(stdin, Boolean(stdin.isTTY), stdin.isTTY ? (on) => stdin.setRawMode(on) : undefined),
  stdout: writer(process.stdout),
  stderr: writer(process.stderr),
  fetch,
  now: () => new Date(),
  sleep,
  interrupt: interrupt.signal,
});
await Promise.all(pending);
process.exit(code);
