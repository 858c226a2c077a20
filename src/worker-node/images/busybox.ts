/**
 * Where the sandbox image's busybox and CA bundle come from: the copies build.ts embeds in the compiled worker-node,
 * else the host's (Debian's busybox-static, /etc/ssl/certs), else — busybox only — Debian's package fetched once
 * with apt into a cache (source checkouts on a machine without busybox-static).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export const EMBEDDED_BUSYBOX = "cynode-busybox.bin";
export const EMBEDDED_CA_BUNDLE = "cynode-ca-certificates.crt";
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

type Named = Blob & { name: string };

/** A file build.ts embedded in this executable, if any (none when running from source). */
export function embeddedFile(name: string, files: readonly Blob[] = Bun.embeddedFiles): Blob | undefined {
  return files.find((f) => (f as Named).name === name);
}

export function run(argv: string[], cwd?: string): { ok: boolean; out: string } {
  try {
    const p = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
    return { ok: p.exitCode === 0, out: p.stdout.toString() + p.stderr.toString() };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/** Debian's busybox-static: the host's copy when that package is installed, else fetched once with apt into a cache. */
export async function staticBusybox(opts: {
  cacheDir?: string;
  log: (line: string) => void;
  preferHost?: boolean;
}): Promise<string> {
  const installed = run(["dpkg-query", "-W", "-f=${Status}", "busybox-static"]);
  if ((opts.preferHost ?? true) && installed.ok && installed.out.includes("install ok installed"))
    return "/bin/busybox";
  const cacheDir =
    opts.cacheDir ?? join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "cynode", "busybox-static");
  const cached = join(cacheDir, "bin", "busybox");
  if (await Bun.file(cached).exists()) return cached;
  opts.log("fetching busybox-static with apt-get download");
  const work = await mkdtemp(join(tmpdir(), "cynode-busybox-"));
  try {
    const download = () => run(["apt-get", "download", "busybox-static"], work);
    // A stale package list names a version the mirror no longer has: refresh it once.
    const fetched = download().ok || (run(["apt-get", "update"]).ok && download().ok);
    const deb = (await readdir(work)).find((f) => f.endsWith(".deb"));
    if (!fetched || !deb) throw new Error("cannot fetch busybox-static with apt (apt-get install busybox-static)");
    const extract = run(["dpkg-deb", "-x", join(work, deb), cacheDir]);
    if (!extract.ok) throw new Error(`cannot unpack ${deb}: ${extract.out}`);
    return cached;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The busybox to put in the sandbox image: embedded, else the host's busybox-static (or apt's, from source). */
export async function busyboxBlob(opts: { log: (line: string) => void; files?: readonly Blob[] }): Promise<Blob> {
  return embeddedFile(EMBEDDED_BUSYBOX, opts.files) ?? Bun.file(await staticBusybox({ log: opts.log }));
}

/** The host's CA bundle (kept current by its updates), else the one embedded at build time. */
export async function caBundleBlob(opts: { hostPath?: string; files?: readonly Blob[] } = {}): Promise<Blob> {
  const host = Bun.file(opts.hostPath ?? HOST_CA_BUNDLE);
  if (await host.exists()) return host;
  const embedded = embeddedFile(EMBEDDED_CA_BUNDLE, opts.files);
  if (embedded) return embedded;
  throw new Error(`${opts.hostPath ?? HOST_CA_BUNDLE} missing (apt-get install ca-certificates)`);
}
