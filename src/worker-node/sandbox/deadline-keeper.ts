/**
 * Every sandbox's deadline, held outside it (decision 24): a job can kill anything inside its own sandbox (the
 * launcher's watchdog included), and a warm sandbox was started before its job's timeout was known, so podman's
 * `--timeout` cannot be its bound. Each sandbox (and its pod) gets an entry in a directory that a small host
 * process, the keeper (deadline-keeper.sh), scans once a second; past its deadline the keeper removes the container
 * and the pod. The keeper runs in a session of its own, so it outlives a worker killed with SIGKILL, and exits once
 * no entry is left; the worker starts it again when it writes the next one. It talks to podman through the command
 * line, on purpose the one part of the node that does not use the libpod API: the node's podman service dies with
 * the node, and the keeper exists for exactly that case (it must outlive the node, so it is a process of its own).
 */
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import keeperScript from "./deadline-keeper.sh" with { type: "text" };

/**
 * `idle`: nothing will use it once this process is gone (a warm sandbox), so it is due then too. `key` names the
 * entry (default: `container`): a sandbox's entry keeps the name it was started under while `container` becomes its
 * id once it exists, as a warm sandbox is renamed when it takes its job.
 */
export type DeadlineEntry = { key?: string; container: string; pod?: string; seconds: number; idle?: boolean };

/** Entries are files named after their container: nothing that could leave the directory or hide from the keeper. */
const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type DeadlineKeeper = {
  /** From now on the keeper removes `container` (and `pod`) once `seconds` have passed; replaces an earlier entry. */
  hold(entry: DeadlineEntry): Promise<void>;
  /** The sandbox is gone by other means: its entry (by key) goes. */
  release(key: string): Promise<void>;
};

/** Seconds since boot: immune to a wall clock that jumps, and readable by the keeper's shell without a process. */
export const uptimeSeconds = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);

export function createDeadlineKeeper(o: {
  dir: string;
  podman: { bin: string; env: Record<string, string> };
  uptime?: () => number;
  /** The owner of idle entries (default: this process). */
  pid?: number;
}): DeadlineKeeper {
  const uptime = o.uptime ?? uptimeSeconds;
  const owner = o.pid ?? process.pid;
  let keeper: Bun.Subprocess | undefined;

  function spawn(): void {
    const proc = Bun.spawn(["setsid", "sh", "-c", keeperScript, "deadline-keeper", o.dir, o.podman.bin], {
      env: o.podman.env,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    proc.unref();
    keeper = proc;
    // It exits when it found no entry: one written meanwhile needs a new keeper.
    void proc.exited.then(async () => {
      if (keeper !== proc) return;
      keeper = undefined;
      const left = await readdir(o.dir).catch(() => [] as string[]);
      if (left.some((f) => !f.startsWith("."))) spawn();
    });
  }

  return {
    async hold({ key = "", container, pod, seconds, idle }) {
      const name = key || container;
      for (const n of [name, container]) if (!ENTRY_NAME.test(n)) throw new Error(`unsafe container name: ${n}`);
      await mkdir(o.dir, { recursive: true, mode: 0o700 });
      const at = Math.ceil(uptime() + seconds);
      // Written aside and renamed: the keeper never reads half an entry (it skips dot files).
      const tmp = join(o.dir, `.${name}`);
      await writeFile(tmp, `${at} ${container} ${pod ?? "-"} ${idle ? owner : "-"}\n`);
      await rename(tmp, join(o.dir, name));
      if (!keeper) spawn();
    },
    async release(key) {
      await rm(join(o.dir, key), { force: true });
    },
  };
}
