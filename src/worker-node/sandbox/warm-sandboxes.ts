/**
 * The runner's warm sandboxes (decision 19): plain ones for jobs in the default image with no network, and warm
 * inference pods. A warm pool keeps each kind full: a few started ahead, each taken by one job and then disposed of,
 * never returned; taking one refills the pool in the background, and a start that fails is retried later.
 */
import type { RunJobRequest } from "../../contracts/worker-api";
import { NODE_LABEL, startJobSandbox, type RunnerContext } from "./job-sandbox";
import type { Sandbox } from "./sandbox";
import type { Logger } from "../../lib/log";

export const WARM_LABEL = "cynodeai.warm";
export type WarmKind = "plain" | "inference";
export type WarmSandboxes = {
  /** A warm sandbox with exactly this job's isolation, if one waits. */
  take(job: RunJobRequest, image: string): Sandbox | undefined;
  size(kind: WarmKind): number;
  start(): void;
  stop(): Promise<void>;
};

export function createWarmSandboxes(ctx: RunnerContext, sizes: Record<WarmKind, number>): WarmSandboxes | undefined {
  const prepare = ctx.placeInferenceJob?.prepare;
  const wanted = { plain: sizes.plain, inference: prepare ? sizes.inference : 0 };
  if (!wanted.plain && !wanted.inference) return undefined;
  const pool = createWarmPool<WarmKind, Sandbox & { died: Promise<unknown> }>({
    sizes: wanted,
    log: ctx.log,
    maxIdleMs: ctx.warmMaxIdleSeconds * 1000,
    start: async (kind) => {
      const id = `warm-${crypto.randomUUID()}`;
      const labels = { [NODE_LABEL]: ctx.nodeSlug, [WARM_LABEL]: "1" };
      const place = kind === "inference" && prepare ? () => prepare(id, labels) : undefined;
      const s = await startJobSandbox(ctx, { id, name: `cynodeai-${id}`, image: ctx.defaultImage, labels, place });
      return { ...s, died: s.exited };
    },
  });

  /** Only a job with exactly a warm sandbox's isolation (default image, no network, same limits) takes one. */
  function kindOf(job: RunJobRequest, image: string): WarmKind | undefined {
    if (image !== ctx.defaultImage || (job.sandbox.network_policy ?? "none") !== "none") return undefined;
    if (!job.sandbox.use_inference || !ctx.placeInferenceJob) return "plain";
    return prepare && (ctx.placeInferenceJob.fitsWarm?.(job) ?? true) ? "inference" : undefined;
  }

  return {
    take(job, image) {
      const kind = kindOf(job, image);
      return kind && pool.take(kind);
    },
    size: (kind) => pool.size(kind),
    start: () => pool.start(),
    stop: () => pool.stop(),
  };
}

export type Disposable = { dispose(): Promise<void>; readonly died: Promise<unknown> };

/** Takes the items ready since `before` or earlier off the front of `list` (the oldest are first in line). */
function takeStale<T extends object>(list: T[], since: WeakMap<T, number>, before: number): T[] {
  const fresh = list.findIndex((item) => since.get(item)! > before);
  return list.splice(0, fresh === -1 ? list.length : fresh);
}

export type WarmPoolOptions<K extends string, T> = {
  sizes: Record<K, number>;
  start: (kind: K) => Promise<T>;
  log: Logger;
  retryMs?: number;
  /** One that waited this long is disposed of and replaced, so an orphan lives at most this plus its job's timeout. */
  maxIdleMs: number;
};

export function createWarmPool<K extends string, T extends Disposable>(opts: WarmPoolOptions<K, T>) {
  const kinds = Object.keys(opts.sizes) as K[];
  const ready = new Map<K, T[]>(kinds.map((k) => [k, []]));
  const readySince = new WeakMap<T, number>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const starting = new Map<K, number>(kinds.map((k) => [k, 0]));
  const pending = new Set<Promise<unknown>>();
  let stopped = true;
  /** Kinds whose last start failed: the warning is logged once per streak, not every retry. */
  const failing = new Set<K>();

  const track = <P>(p: Promise<P>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  };

  function startOne(kind: K): void {
    starting.set(kind, starting.get(kind)! + 1);
    // The whole chain is tracked, so stop() also waits for a late start to be disposed of.
    void track(
      opts.start(kind).then(
        (item) => {
          starting.set(kind, starting.get(kind)! - 1);
          failing.delete(kind);
          if (stopped) return item.dispose();
          opts.log.info("warm sandbox ready", { kind });
          ready.get(kind)!.push(item);
          readySince.set(item, Date.now());
          // One that dies while waiting (removed from outside) is replaced.
          void item.died.then(() => {
            const list = ready.get(kind)!;
            if (!list.includes(item)) return;
            list.splice(list.indexOf(item), 1);
            void track(item.dispose());
            refill(kind);
          });
        },
        (err: Error) => {
          starting.set(kind, starting.get(kind)! - 1);
          if (stopped) return;
          if (!failing.has(kind))
            opts.log.warn("warm sandbox could not be started; retrying later", { kind, error: err.message });
          failing.add(kind);
          setTimeout(() => refill(kind), opts.retryMs ?? 5000).unref();
        },
      ),
    );
  }

  function refill(kind: K): void {
    while (!stopped && ready.get(kind)!.length + starting.get(kind)! < opts.sizes[kind]) startOne(kind);
  }

  /** Replaces the ones that waited too long. */
  function recycle(): void {
    for (const kind of kinds) {
      const old = takeStale(ready.get(kind)!, readySince, Date.now() - opts.maxIdleMs);
      for (const item of old) void track(item.dispose());
      if (old.length) opts.log.info("warm sandboxes recycled", { kind, count: old.length });
      refill(kind);
    }
  }

  return {
    /** Starts filling every kind. */
    start(): void {
      stopped = false;
      for (const k of kinds) refill(k);
      sweeper ??= setInterval(recycle, opts.maxIdleMs / 4);
      sweeper.unref();
    },
    /** A ready sandbox of that kind for one job (never given out again), or undefined: the job starts cold. */
    take(kind: K): T | undefined {
      const item = ready.get(kind)?.shift();
      if (item) refill(kind);
      return item;
    },
    /** How many wait, per kind. */
    size(kind: K): number {
      return ready.get(kind)?.length ?? 0;
    },
    /** Stops refilling and disposes of every waiting sandbox, including those still starting. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(sweeper);
      sweeper = undefined;
      const all = kinds.flatMap((k) => ready.get(k)!.splice(0));
      await Promise.all(all.map((i) => i.dispose()));
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
