/**
 * A sandbox's standard streams without podman in between: three FIFOs in a per-sandbox host directory mounted at
 * IO_DIR, which the sandbox's first shell opens as its stdin, stdout and stderr (launcher.ts). The worker reads the
 * job's output straight from the FIFOs, sees the job's end from marks the launcher prints after it, and hands the
 * job over by writing its launcher into the directory and one line on the sandbox's stdin.
 *
 * The worker holds every FIFO open read-write while the sandbox lives: the sandbox's opens never block, its writes
 * never meet a FIFO without a reader (however late Bun opens its own), and `out`/`err` reach their end only once
 * the worker lets go after the sandbox exited. A sandbox whose worker died reads EOF on `in` and exits.
 */
import { chown, closeSync, constants, openSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { SANDBOX_ID_BASE } from "./container-spec";

/** Where the FIFOs and the launcher are inside the sandbox. */
export const IO_DIR = "/run/cynode-io";
export const LAUNCHER_FILE = "launch.sh";
const FIFOS = ["in", "out", "err"] as const;
const { O_RDWR, O_NONBLOCK } = constants;

export type SandboxIo = {
  /** Opened (and closed at their end or cancel) by Bun itself. */
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  /** Writes the job's launcher and tells the waiting sandbox to run it. */
  handOver(launcher: string | Uint8Array): Promise<void>;
  /** Lets go of the worker's own ends: once the sandbox is gone too, the streams end. */
  close(): void;
};

async function mkfifos(dir: string): Promise<void> {
  const p = Bun.spawn(["mkfifo", "-m", "0600", ...FIFOS.map((f) => join(dir, f))], { stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mkfifo failed: ${err.trim()}`);
}

/** Creates the FIFOs in `dir` (owned by the sandboxes' root, as the directory) and takes the worker's ends. */
export async function openSandboxIo(dir: string): Promise<SandboxIo> {
  await mkfifos(dir);
  const paths = FIFOS.map((f) => join(dir, f));
  const own = promisify(chown);
  await Promise.all([dir, ...paths].map((p) => own(p, SANDBOX_ID_BASE, SANDBOX_ID_BASE)));
  // Read-write: opening never blocks or fails, with or without the sandbox at the other end.
  const held = new Map(FIFOS.map((f, i) => [f, openSync(paths[i]!, O_RDWR | O_NONBLOCK)]));
  const drop = (...names: (typeof FIFOS)[number][]) => {
    for (const n of names) {
      const fd = held.get(n);
      held.delete(n);
      if (fd !== undefined) closeSync(fd);
    }
  };
  return {
    stdout: Bun.file(paths[1]!).stream(),
    stderr: Bun.file(paths[2]!).stream(),
    async handOver(launcher) {
      await Bun.write(join(dir, LAUNCHER_FILE), launcher);
      const input = held.get("in");
      if (input === undefined) throw new Error("the sandbox was already handed a job");
      // One short line into a FIFO the worker itself holds open: it never blocks, whatever the sandbox does.
      writeSync(input, "go\n");
      drop("in");
    },
    close: () => drop(...FIFOS),
  };
}
