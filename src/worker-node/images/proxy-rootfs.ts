/**
 * Stages the inference-proxy image's root filesystem: the compiled proxy at /inference-proxy plus the shared
 * libraries `ldd` says it loads (glibc, ld-linux), taken from the host.
 */
import { chmod, copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import containerfile from "../../../containers/inference-proxy/Containerfile" with { type: "text" };

export const PROXY_CONTAINERFILE = containerfile;

async function output(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}):\n${err.trim() || out.trim()}`);
  return out;
}

/** Absolute paths of the libraries in `ldd` output; the vDSO has none. A missing library is an error. */
export function parseLdd(text: string): string[] {
  const missing = text.split("\n").filter((l) => l.includes("=> not found"));
  if (missing.length) throw new Error(`missing shared libraries: ${missing.map((l) => l.trim()).join(", ")}`);
  return [...text.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
}

/** Copies `binary` to `<rootDir>/inference-proxy` and its libraries to their own paths under rootDir. */
export async function stageProxyRootfs({ binary, rootDir }: { binary: string; rootDir: string }): Promise<string[]> {
  const libraries = parseLdd(await output(["ldd", binary]));
  for (const [from, to] of [[binary, "/inference-proxy"], ...libraries.map((l) => [l, l])] as const) {
    await mkdir(dirname(join(rootDir, to)), { recursive: true });
    await copyFile(from, join(rootDir, to)); // follows symlinks: the image gets the real file under the linked name
    await chmod(join(rootDir, to), 0o755);
  }
  return libraries;
}
