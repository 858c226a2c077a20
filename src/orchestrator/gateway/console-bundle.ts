/**
 * The web console's bundle (src/web, built by `Bun.build` from TypeScript, gzipped): the copy build.ts embeds in the
 * compiled orchestrator, else built from source once, on the first request that needs it.
 */
import { join } from "node:path";

/** Names of the gzipped files build.ts embeds (and writes under dist/assets). */
export const CONSOLE_FILES = { script: "cynode-console.js.gz", style: "cynode-console.css.gz" } as const;
export type ConsoleBundle = Record<keyof typeof CONSOLE_FILES, Uint8Array<ArrayBuffer>>;

const ENTRY = join(import.meta.dir, "..", "..", "web", "main.tsx");

/** Bundles src/web for the browser (minified, no source map: nothing but the two files is served). */
export async function buildConsole(): Promise<ConsoleBundle> {
  const built = await Bun.build({ entrypoints: [ENTRY], target: "browser", minify: true, format: "esm" });
  if (!built.success) throw new Error(`the web console does not build: ${built.logs.join("\n")}`);
  const output = async (ext: string) => {
    const file = built.outputs.find((o) => o.path.endsWith(ext));
    if (!file) throw new Error(`the web console's build has no ${ext} file`);
    return Bun.gzipSync(new Uint8Array(await file.arrayBuffer()), { level: 9 });
  };
  return { script: await output(".js"), style: await output(".css") };
}

type Named = Blob & { name: string };

/** The embedded bundle when this is the compiled orchestrator, else undefined. */
export async function embeddedConsole(files: readonly Blob[] = Bun.embeddedFiles): Promise<ConsoleBundle | undefined> {
  const find = (name: string) => files.find((f) => (f as Named).name === name);
  const [script, style] = [find(CONSOLE_FILES.script), find(CONSOLE_FILES.style)];
  if (!script || !style) return undefined;
  return { script: await script.bytes(), style: await style.bytes() };
}

/** The bundle to serve, loaded once: embedded, else built from source. */
export function consoleBundle(load = async () => (await embeddedConsole()) ?? buildConsole()) {
  let bundle: Promise<ConsoleBundle> | undefined;
  return () => (bundle ??= load());
}
