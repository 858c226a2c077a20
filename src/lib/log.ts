/** JSON-lines logger with a redaction list: secrets never reach a log line, whatever a caller passes. */
import { writeSync } from "node:fs";

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;
export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
};

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|secret|password|psk|authorization|cookie|api[_-]?key/i;
export const REDACTED = "[REDACTED]";

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: LogFields = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

export type LoggerOptions = {
  name: string;
  level?: LogLevel;
  /** Where lines go: stderr, one write per line, unless given (an executable passes `batchedStderr().write`). */
  write?: (line: string) => void;
  now?: () => Date;
};

/**
 * Lines written in one turn of the event loop leave together in one `emit` (a busy server logs a line per request,
 * and a write per line cost it a fifth of its CPU); `drain()` hands over what is still pending.
 */
export function lineBatcher(emit: (text: string) => void) {
  let pending = "";
  const drain = () => {
    const text = pending;
    pending = "";
    return text;
  };
  return {
    write(line: string) {
      if (!pending) setImmediate(() => pending && emit(drain()));
      pending += line + "\n";
    },
    drain,
  };
}

/**
 * stderr through a line batcher, for an executable's logger. Its `main.ts` owns the process, so it installs the
 * exit hook that writes what is still pending: `process.on("exit", stderr.flush)`.
 */
export function batchedStderr() {
  const batch = lineBatcher((text) => process.stderr.write(text));
  return {
    write: batch.write,
    flush() {
      try {
        writeSync(2, batch.drain());
      } catch {
        // stderr is gone: nowhere left to report to
      }
    },
  };
}

const stderrLine = (line: string) => process.stderr.write(line + "\n");

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const min = LEVELS[opts.level ?? "info"];
  const write = opts.write ?? stderrLine;
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const record = {
      time: now().toISOString(),
      level,
      component: opts.name,
      msg,
      ...(redact({ ...bound, ...fields }) as LogFields),
    };
    write(JSON.stringify(record));
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** A logger that keeps lines in memory, for tests that assert what was (not) logged. */
export function memoryLogger(name = "test"): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const log = createLogger({ name, level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  return Object.assign(log, { lines });
}
