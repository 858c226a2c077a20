/** Creates the `admin` user on first start (decision 10); a generated password is shown once, never logged. */
import type { Db } from "../db/connect";
import { recordAuthEvent } from "../db/audit";
import { createUserWithPassword, findUserByHandle } from "../db/users";
import { hashPassword } from "./passwords";

export type BootstrapResult = { created: false } | { created: true; generatedPassword?: string };

export async function bootstrapAdmin(db: Db, password: string | undefined): Promise<BootstrapResult> {
  if (await findUserByHandle(db, "admin")) return { created: false };
  const generated = password
    ? undefined
    : Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
  const user = await createUserWithPassword(db, {
    handle: "admin",
    passwordHash: await hashPassword(password ?? generated!),
  });
  await recordAuthEvent(db, {
    event: "user_created",
    success: true,
    userId: user.id,
    handle: "admin",
    reason: "bootstrap admin",
  });
  return generated ? { created: true, generatedPassword: generated } : { created: true };
}
