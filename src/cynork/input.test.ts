import { describe, expect, it } from "bun:test";
import { CliError } from "./errors";
import { applySecretKeys, createInput } from "./input";

async function* chunks(...parts: (string | Uint8Array)[]) {
  yield* parts;
}

describe("createInput", () => {
  it("reads lines across chunks, handling CRLF and a last line without newline", async () => {
    const input = createInput(chunks("us", "er\r\npass", new TextEncoder().encode("word\nlast")), false);
    expect([await input.readLine(), await input.readLine(), await input.readLine(), await input.readLine()]).toEqual([
      "user",
      "password",
      "last",
      undefined,
    ]);
  });

  it("reads everything that is left", async () => {
    const input = createInput(chunks("first\n", "rest\n", "more"), false);
    await input.readLine();
    expect(await input.readAll()).toBe("rest\nmore");
    expect(await input.readAll()).toBe("");
  });

  it("reads a secret in raw mode on a TTY, restoring the mode and ending the prompt line", async () => {
    const modes: boolean[] = [];
    let ended = 0;
    const input = createInput(chunks("se", "cx\u007fret\r", "ignored"), true, (on) => modes.push(on));
    expect(await input.readSecret(() => ended++)).toBe("secret");
    expect([modes, ended]).toEqual([[true, false], 1]);
    const eof = createInput(chunks("abc"), true, () => {});
    expect(await eof.readSecret(() => {})).toBe("abc");
  });

  it("reads a secret as a plain line when stdin is not a TTY", async () => {
    expect(await createInput(chunks("pw\nnext\n"), false).readSecret(() => {})).toBe("pw");
  });
});

describe("applySecretKeys", () => {
  it("edits and ends the secret, ignoring control characters", () => {
    expect(applySecretKeys({ text: "", done: false }, "ab\bc\u0001")).toEqual({ text: "ac", done: false });
    expect(applySecretKeys({ text: "x", done: false }, "y\n")).toEqual({ text: "xy", done: true });
  });

  it("aborts on Ctrl+C", () => {
    expect(() => applySecretKeys({ text: "", done: false }, "\u0003")).toThrow(CliError);
  });
});
