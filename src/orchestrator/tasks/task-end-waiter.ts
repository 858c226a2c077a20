/**
 * Long-poll on a task's end (decision 19): a waiter re-reads its task when the task's `cynode_task_ended`
 * notification arrives, from whichever orchestrator ended it, or when its time runs out.
 */
import { CHANNELS, type Notifications } from "../db/notifications";
import { TERMINAL_DB_STATUSES } from "../db/tasks";
import type { DbTaskStatus } from "../db/schema";

type TaskLike = { id: string; status: DbTaskStatus };

export type TaskEndWaiter = {
  /**
   * `task` when it has ended, else `read()` once it ends, `ms` pass or `signal` aborts (the client left).
   * Reads once more after subscribing, so an end committed between the caller's read and the subscription counts.
   */
  wait<T extends TaskLike>(task: T, ms: number, signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T>;
  /** Stops listening and ends every wait now (each answers the current state); resolves once they have. */
  close(): Promise<void>;
};

const hasEnded = (t: TaskLike) => TERMINAL_DB_STATUSES.includes(t.status);

export async function startTaskEndWaiter(notifications: Notifications): Promise<TaskEndWaiter> {
  const waiting = new Map<string, Set<() => void>>();
  const wake = (taskId: string) => {
    for (const resolve of waiting.get(taskId) ?? []) resolve();
  };
  // After a reconnect, ends committed while the connection was down were never notified: everyone re-reads.
  const wakeAll = () => {
    for (const taskId of waiting.keys()) wake(taskId);
  };
  const unlisten = await notifications.listen(CHANNELS.taskEnded, wake, wakeAll);
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  return {
    wait(task, ms, signal, read) {
      if (hasEnded(task) || closed) return Promise.resolve(task);
      const pending = waitFor(task, ms, signal, read);
      inFlight.add(pending);
      return pending.finally(() => inFlight.delete(pending));
    },
    async close() {
      closed = true;
      await unlisten();
      wakeAll();
      await Promise.allSettled(inFlight);
    },
  };

  async function waitFor<T extends TaskLike>(
    task: T,
    ms: number,
    signal: AbortSignal | undefined,
    read: () => Promise<T>,
  ) {
    let resolve!: () => void;
    const woken = new Promise<void>((r) => (resolve = r));
    const set = waiting.get(task.id) ?? new Set();
    waiting.set(task.id, set.add(resolve));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", resolve, { once: true });
    try {
      const fresh = await read();
      if (hasEnded(fresh)) return fresh;
      await woken;
      return await read();
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", resolve);
      set.delete(resolve);
      if (!set.size && waiting.get(task.id) === set) waiting.delete(task.id);
    }
  }
}
