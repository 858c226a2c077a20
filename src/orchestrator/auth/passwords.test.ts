import { describe, expect, it } from "bun:test";
import { hashPassword, verifyPassword } from "./passwords";

describe("passwords", () => {
  it("hashes with argon2id (m=64 MiB, t=3) and verifies only the right password", async () => {
    const hash = await hashPassword("s3cret");
    expect(hash).toStartWith("$argon2id$v=19$m=65536,t=3,");
    expect(await verifyPassword("s3cret", hash)).toBe(true);
    expect(await verifyPassword("S3cret", hash)).toBe(false);
  });

  it("treats a malformed stored hash as a failed check, not an error", async () => {
    expect(await verifyPassword("x", "not-a-phc-string")).toBe(false);
  });
});
