/** A directory the node writes to (state dir, sandbox mount root), created if missing, checked before anything runs. */
import { access, constants, mkdir } from "node:fs/promises";

export async function ensureWritableDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`${what} ${dir} is not writable: ${(err as Error).message}`);
  }
}
