/** Everything cynork touches outside itself, passed in so tests run the real CLI in-process. */
import type { Input } from "./input";

export type Output = { write(text: string): void; isTTY: boolean };

export type CliIo = {
  env: Record<string, string | undefined>;
  home: string;
  stdin: Input;
  stdout: Output;
  stderr: Output;
  fetch: typeof fetch;
  now(): Date;
  /** Waits between polls; resolves early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Aborted on Ctrl+C. */
  interrupt: AbortSignal;
};

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
