/** Secrets the orchestrator generates once and keeps in its state dir (mode 0600) when no env var provides them. */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export async function readOrCreateSecret(stateDir: string, name: string, bytes = 32): Promise<string> {
  const path = join(stateDir, name);
  if (existsSync(path)) {
    const value = (await readFile(path, "utf8")).trim();
    if (value) return value;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const value = Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
  await writeFile(path, value + "\n", { mode: 0o600, flag: "w" });
  await chmod(path, 0o600);
  return value;
}
