/**
 * Encrypts secrets kept in the database (per-node worker bearer tokens) with AES-256-GCM.
 * The key comes from ORCHESTRATOR_SECRET_KEY, else from a 0600 key file in the state dir (created once).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const PREFIX = "v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_FILE = "orchestrator-secret.key";

export type SecretBox = { seal(plain: string): string; open(sealed: string): string };

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== 32) throw new Error("secret box key must be 32 bytes");
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new Error("sealed secret has an unknown format");
      const raw = Buffer.from(sealed.slice(PREFIX.length), "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    },
  };
}

/** Any passphrase works as ORCHESTRATOR_SECRET_KEY: it is stretched to 32 bytes by sha256. */
export function keyFromPassphrase(passphrase: string): Uint8Array {
  return createHash("sha256").update(passphrase, "utf8").digest();
}

/** The key from `envKey` when set, else from `<stateDir>/orchestrator-secret.key`, generated (0600) on first use. */
export async function loadSecretKey(opts: { envKey?: string; stateDir: string }): Promise<Uint8Array> {
  if (opts.envKey) return keyFromPassphrase(opts.envKey);
  const path = join(opts.stateDir, SECRET_KEY_FILE);
  const existing = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (existing !== undefined) return Buffer.from(existing.trim(), "base64");
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // "wx" so two processes starting at once cannot each write a different key.
  await writeFile(path, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" }).catch(
    async (err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    },
  );
  await chmod(path, 0o600);
  return Buffer.from((await readFile(path, "utf8")).trim(), "base64");
}
