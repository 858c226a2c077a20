import { describe, expect, it } from "bun:test";
import { mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretBox, keyFromPassphrase, loadSecretKey, SECRET_KEY_FILE } from "./secret-box";

describe("secret box", () => {
  const box = createSecretBox(keyFromPassphrase("test passphrase"));

  it("round-trips a secret without storing it in clear", () => {
    const sealed = box.seal("worker-token-123");
    expect(sealed).not.toContain("worker-token-123");
    expect(box.seal("worker-token-123")).not.toBe(sealed);
    expect(box.open(sealed)).toBe("worker-token-123");
  });

  it("refuses a tampered value, another key and an unknown format", () => {
    const sealed = box.seal("abc");
    // One bit flipped in a byte (changing base64 characters may leave the bytes alone: their low bits are padding).
    const tamper = (value: string, at: number) => {
      const bytes = Buffer.from(value.slice(value.indexOf(":") + 1), "base64url");
      bytes[at % bytes.length]! ^= 1;
      return value.slice(0, value.indexOf(":") + 1) + bytes.toString("base64url");
    };
    for (let at = 0; at < 64; at++) expect(() => box.open(tamper(box.seal("abc"), at))).toThrow();
    expect(() => createSecretBox(keyFromPassphrase("other")).open(sealed)).toThrow();
    expect(() => box.open("plain")).toThrow("unknown format");
    expect(() => createSecretBox(new Uint8Array(8))).toThrow("32 bytes");
  });

  it("creates a 0600 key file once and reuses it", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "secret-box-")), "state");
    const first = await loadSecretKey({ stateDir: dir });
    expect(first.length).toBe(32);
    expect((await stat(join(dir, SECRET_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(Buffer.from(await loadSecretKey({ stateDir: dir })).equals(Buffer.from(first))).toBe(true);
  });

  it("prefers ORCHESTRATOR_SECRET_KEY and reports unreadable key files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "secret-box-"));
    expect(
      Buffer.from(await loadSecretKey({ envKey: "k", stateDir: dir })).equals(Buffer.from(keyFromPassphrase("k"))),
    ).toBe(true);
    await writeFile(join(dir, "file"), "x");
    await expect(loadSecretKey({ stateDir: join(dir, "file") })).rejects.toThrow();
  });
});
