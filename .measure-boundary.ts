// Measures issue 21's figures (not committed).
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { memoryLogger } from "./src/lib/log";
import { createSandboxRunner } from "./src/worker-node/sandbox/run-job";
import { startedSignal, testPodman, testSettings, waitForHostProcess } from "./src/testing/sandbox-fixture";

const podman = testPodman();
const settings = await testSettings({ maxDiskMb: 16, warmPool: 1 });
const r = createSandboxRunner({ podman, settings, log: memoryLogger() });
r.warmUp();
while (r.warm("plain") === 0) await Bun.sleep(20);
const disk = async () => { const { bavail, bsize } = await statfs(settings.mountRoot); return bavail * bsize; };
const paths = ["/workspace", "/tmp", "/run", "/var/tmp", "/dev/shm", "/run/cynode-io", "/", "/etc"];
const before = await disk();
const script = paths.map((p) => `(dd if=/dev/zero of=${p}/fill bs=1M count=3072 2>/dev/null; echo "${p} $? $(du -sk ${p}/fill 2>/dev/null | cut -f1)k"); rm -f ${p}/fill`).join("; ");
const res = await r.run({ version: 1, task_id: "t", job_id: crypto.randomUUID(), sandbox: { command: ["sh", "-c", script], timeout_seconds: 100 } });
console.log(res.stdout, "disk delta MB:", ((before - (await disk())) / 1048576).toFixed(1));
await r.stopAll();

for (const place of ["cold", "warm", "pod", "warm-pod"]) {
  const started = startedSignal(600);
  const w = Bun.spawn(["bun", join(import.meta.dir, "src/testing/doomed-worker.ts"), place, `kill -KILL -1; ${started.command}`, "20"], { stdout: "pipe" });
  await started.seen();
  const t0 = Date.now();
  w.kill("SIGKILL");
  const argv = started.command.split(" ");
  const want = `${argv.join("\0")}\0`;
  const { readdir } = await import("node:fs/promises");
  const alive = async () => { for (const p of await readdir("/proc")) if ((await Bun.file(`/proc/${p}/cmdline`).text().catch(() => "")) === want) return true; return false; };
  while (await alive()) await Bun.sleep(100);
  console.log(`${place}: timeout 20 s, job gone ${((Date.now() - t0) / 1000).toFixed(1)} s after its worker's SIGKILL (hand-over ~0 s before)`);
}
process.exit(0);
