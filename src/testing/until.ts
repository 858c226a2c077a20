/** TEST SUPPORT: waits for a condition with a deadline, and fails naming what it waited for (STYLE rule 18). */
export type WaitOptions = { timeoutMs?: number; intervalMs?: number };

/** Resolves with the first value `probe` gives that is not `undefined`. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  { timeoutMs = 10_000, intervalMs = 20 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** Resolves once `ok` holds. */
export async function until(ok: () => boolean | Promise<boolean>, what: string, opts: WaitOptions = {}): Promise<void> {
  await eventually(async () => ((await ok()) ? true : undefined), what, opts);
}
