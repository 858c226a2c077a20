/**
 * cynork's YAML config (reference-contracts 7.1): where it lives, reading it (missing = empty) and writing it
 * atomically with dir 0700 / file 0600. Keys it does not know are kept as they are.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { CliError, EXIT } from "./errors";

export const ConfigFile = v.object({
  gateway_url: v.optional(v.string()),
  /** PEM CA trusted for the gateway instead of the system roots. */
  ca_file: v.optional(v.string()),
  token: v.optional(v.string()),
  refresh_token: v.optional(v.string()),
});
export type ConfigFile = v.InferOutput<typeof ConfigFile>;

export const DEFAULT_GATEWAY_URL = "http://localhost:12080";

export function configPath(flag: string | undefined, env: Record<string, string | undefined>, home: string): string {
  if (flag) return flag;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "cynork", "config.yaml");
  return join(home, ".config", "cynork", "config.yaml");
}

export type LoadedConfig = { path: string; raw: Record<string, unknown>; file: ConfigFile };

const loadError = (message: string) => new CliError(EXIT.usage, `load config: ${message}`);

export async function loadConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { path, raw: {}, file: {} };
    throw loadError((err as Error).message);
  }
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch (err) {
    throw loadError(`${path}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { path, raw: {}, file: {} };
  if (typeof doc !== "object" || Array.isArray(doc)) throw loadError(`${path}: expected a mapping`);
  const parsed = v.safeParse(ConfigFile, doc);
  if (!parsed.success) throw loadError(`${path}: ${v.getDotPath(parsed.issues[0]) ?? "value"} must be a string`);
  return { path, raw: doc as Record<string, unknown>, file: parsed.output };
}

/** Writes `changes` over the file's current content (undefined removes a key): temp file in the same dir + rename. */
export async function saveConfig(
  loaded: LoadedConfig,
  changes: Partial<Record<keyof ConfigFile, string | undefined>>,
): Promise<LoadedConfig> {
  const raw: Record<string, unknown> = { ...loaded.raw };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete raw[key];
    else raw[key] = value;
  }
  const dir = dirname(loaded.path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.config.yaml.${process.pid}.${crypto.randomUUID()}.tmp`);
  await writeFile(tmp, `${Bun.YAML.stringify(raw, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, loaded.path);
  return { path: loaded.path, raw, file: v.parse(ConfigFile, raw) };
}
