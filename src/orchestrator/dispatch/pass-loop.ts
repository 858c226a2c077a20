/**
 * Runs a pass again and again until stopped: at once when woken during a pass (something finished or was queued),
 * else after the poll interval, which a wake cuts short.
 */
export type PassLoop = { start(): void; wake(): void; stop(): Promise<void> };

export function createPassLoop(pass: () => Promise<void>, intervalMs: number): PassLoop {
  let stopped = true;
  let woken = false;
  let loop: Promise<void> | undefined;
  let resumeWait: (() => void) | undefined;
  const wake = () => {
    woken = true;
    resumeWait?.();
  };

  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      resumeWait = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => void (resumeWait = undefined));

  return {
    wake,
    start() {
      if (!stopped) return;
      stopped = false;
      loop = (async () => {
        while (!stopped) {
          woken = false;
          await pass();
          if (!stopped && !woken) await pause();
        }
      })();
    },
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}
