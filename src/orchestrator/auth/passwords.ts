/** Argon2id password hashes as PHC strings (m=64 MiB, t=3), via Bun.password. */
export const hashPassword = (password: string) =>
  Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 65536, timeCost: 3 });

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false; // a malformed stored hash is a failed login, not a 500
  }
}
