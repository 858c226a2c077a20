/** Preact hooks for what the pages load: once, or again and again while the page shows (live statuses, logs). */
import { useEffect, useState } from "preact/hooks";

export type Loaded<T> = { value?: T; error?: string };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs `load` at once and then `everyMs` after each answer (not at a fixed rate: a long-poll sets its own pace) until
 * the page goes or `load` says it is done by returning `{ done: true }` with its last value.
 */
export function usePolling<T>(
  load: (signal: AbortSignal) => Promise<T | { done: true; value: T }>,
  everyMs: number,
  deps: unknown[],
): Loaded<T> & { reload: () => void } {
  const [state, setState] = useState<Loaded<T>>({});
  const [round, setRound] = useState(0);
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const got = await load(stop.signal);
        if (stop.signal.aborted) return;
        const done = typeof got === "object" && got !== null && "done" in got;
        setState({ value: done ? got.value : (got as T) });
        if (!done && everyMs > 0) timer = setTimeout(tick, everyMs);
      } catch (err) {
        if (!stop.signal.aborted) setState((s) => ({ ...s, error: message(err) }));
      }
    };
    void tick();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [...deps, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** `load` once per change of `deps` (everyMs 0: no repeat). */
export const useLoaded = <T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) => usePolling(load, 0, deps);

/** An action's pending flag and error, for forms and buttons. */
export function useAction<A extends unknown[]>(act: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await act(...args);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}
