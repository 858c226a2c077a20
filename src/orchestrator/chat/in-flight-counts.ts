/**
 * Requests in flight by key (a node, a user): each hold is released once, however often its release is called, and
 * a key whose count falls to zero is forgotten, so the map stays as small as what is in flight. In memory: per process.
 */
export type InFlightCounts = {
  count(key: string): number;
  /** Counts one more request on `key` until the returned release is called. */
  hold(key: string): () => void;
  /** As `hold`, unless `key` already has `max` in flight: then undefined and nothing is counted. */
  tryHold(key: string, max: number): (() => void) | undefined;
};

export function createInFlightCounts(): InFlightCounts {
  const counts = new Map<string, number>();
  const count = (key: string) => counts.get(key) ?? 0;
  const hold = (key: string) => {
    counts.set(key, count(key) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = count(key) - 1;
      if (left > 0) counts.set(key, left);
      else counts.delete(key);
    };
  };
  return { count, hold, tryHold: (key, max) => (count(key) >= max ? undefined : hold(key)) };
}
