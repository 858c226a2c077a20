/**
 * Waiting for a task's end by long-poll (`?wait=`), with a progress line on stderr when a person is watching
 * (TTY, table, not -q). A gateway that answers a running task at once ignores `wait` (an older one): then the
 * wait falls back to polling at the given interval.
 */
import type { TaskResultResponse } from "../contracts/user-api";
import { parseDuration } from "../lib/duration";
import type { Ctx } from "./command";
import { usageError } from "./errors";
import type { GatewayClient } from "./gateway-client";
import { isTerminal } from "./render";

export const DEFAULT_POLL_MS = 2000;
const MIN_POLL_MS = 1000;
/** `create --result` polls quickly at first, so a task that ends in a second is seen within a quarter of one. */
const QUICK_POLL_MS = 250;
const QUICK_POLLS = 8;

/** Delay after poll `tick` (0-based) when no interval was chosen: quick polls for 2 s, then the reference's 2 s. */
export const resultPollDelay = (tick: number) => (tick < QUICK_POLLS ? QUICK_POLL_MS : DEFAULT_POLL_MS);
const FRAMES = ["|", "/", "-", "\\"];

/** Seconds each long-poll asks the gateway to hold the request. */
export const LONG_POLL_S = 30;

/**
 * One long-poll for the result: undefined on Ctrl+C; `early` when a running task was answered well before `waitS`
 * ran out, i.e. the gateway does not long-poll and the caller should pace its own polls.
 */
export async function longPollResult(
  ctx: Ctx,
  client: GatewayClient,
  id: string,
  waitS: number,
): Promise<{ result: TaskResultResponse; early: boolean } | undefined> {
  const asked = performance.now();
  try {
    const result = await client.taskResult(id, waitS, ctx.io.interrupt);
    return { result, early: performance.now() - asked < (waitS * 1000) / 2 };
  } catch (err) {
    if (ctx.io.interrupt.aborted) return undefined;
    throw err;
  }
}

/**
 * `2s`, `1500ms`, `5` (seconds): at least 1 s, as the reference's `--wait-interval`/`--interval`; in whole
 * milliseconds (`1.0005s` is 1001 ms), the finest `wait` the gateway takes.
 */
export function pollInterval(text: string | undefined, flag: string): number {
  if (text === undefined) return DEFAULT_POLL_MS;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw usageError(`invalid ${flag} "${text}": use a duration such as 2s`);
  }
  if (ms < MIN_POLL_MS) throw usageError(`${flag} must be at least 1s`);
  return Math.round(ms);
}

/** The terminal result, or undefined when interrupted (Ctrl+C ends a wait quietly). */
export async function waitForTask(
  ctx: Ctx,
  client: GatewayClient,
  id: string,
  interval: number | ((tick: number) => number),
): Promise<TaskResultResponse | undefined> {
  const { io, globals } = ctx;
  const spinner = io.stderr.isTTY && !globals.quiet && globals.output === "table";
  try {
    for (let tick = 0; ; tick++) {
      const answer = await longPollResult(ctx, client, id, LONG_POLL_S);
      if (!answer) return undefined;
      const { result, early } = answer;
      if (isTerminal(result.status)) return result;
      if (spinner) io.stderr.write(`\r${FRAMES[tick % FRAMES.length]} task ${result.task_id} ${result.status}…`);
      if (early) await io.sleep(typeof interval === "number" ? interval : interval(tick), io.interrupt);
      if (io.interrupt.aborted) return undefined;
    }
  } finally {
    if (spinner) io.stderr.write("\r\u001b[K");
  }
}
