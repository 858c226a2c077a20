import { describe, expect, it } from "bun:test";
import { captureText, utf8Boundary } from "./truncate-utf8";

const enc = (s: string) => new TextEncoder().encode(s);
const streamOf = (...chunks: Uint8Array[]) => new Blob(chunks).stream();

describe("utf8Boundary", () => {
  it("keeps short input whole and cuts ASCII exactly at the cap", () => {
    expect(utf8Boundary(enc("abc"), 5)).toBe(3);
    expect(utf8Boundary(enc("abcdef"), 4)).toBe(4);
  });

  it("backs off to the start of a multi-byte sequence the cap would split", () => {
    const bytes = enc("ab€"); // € is 3 bytes: e2 82 ac
    expect(utf8Boundary(bytes, 3)).toBe(2);
    expect(utf8Boundary(bytes, 4)).toBe(2);
    expect(utf8Boundary(enc("ab€c"), 5)).toBe(5);
    expect(utf8Boundary(enc("a😀b"), 4)).toBe(1);
  });
});

describe("captureText", () => {
  it("returns small output untouched", async () => {
    expect(await captureText(streamOf(enc("héllo\n")), 100)).toEqual({
      text: "héllo\n",
      truncated: false,
      marked: false,
      trailer: "",
    });
  });

  it("truncates at the cap on a character boundary across chunks and flags it", async () => {
    const chunks = Array.from({ length: 50 }, () => enc("€".repeat(1000)));
    const { text, truncated } = await captureText(streamOf(...chunks), 1000);
    expect(truncated).toBe(true);
    expect(text).toBe("€".repeat(333));
  });

  it("does not flag output of exactly the cap", async () => {
    expect(await captureText(streamOf(enc("abcd")), 4)).toMatchObject({ text: "abcd", truncated: false });
  });

  it("stops at an end mark split across chunks, and reads the rest of its line when asked", async () => {
    const out = await captureText(streamOf(enc("job out"), enc("putMA"), enc("RK"), enc("later")), 100, {
      mark: "MARK",
    });
    expect(out).toEqual({ text: "job output", truncated: false, marked: true, trailer: "" });
    const err = streamOf(enc("oops\nMARK 1"), enc("37\nnot read"));
    expect(await captureText(err, 100, { mark: "MARK ", line: true })).toEqual({
      text: "oops\n",
      truncated: false,
      marked: true,
      trailer: "137",
    });
  });

  it("finds the mark past the cap, and keeps a mark-like tail when the stream ends without one", async () => {
    const big = await captureText(streamOf(enc("x".repeat(50)), enc("yyMARK")), 10, { mark: "MARK" });
    expect(big).toEqual({ text: "x".repeat(10), truncated: true, marked: true, trailer: "" });
    expect(await captureText(streamOf(enc("endsMA")), 100, { mark: "MARK" })).toMatchObject({
      text: "endsMA",
      marked: false,
    });
  });
});
