import { describe, expect, it } from "bun:test";
import * as v from "valibot";
import {
  isBoundedTimestamp,
  isStorableText,
  isStorageRuleIssue,
  issueField,
  List,
  Text,
  TextMap,
  TOO_LONG,
  TOO_MANY,
  UNSTORABLE,
  unstorableAt,
} from "./storable";

describe("storable text", () => {
  it("refuses NUL and unpaired surrogates, keeps paired ones and ordinary text", () => {
    expect(["a\0b", "\ud800", "x\udc00", "\udc00\ud800"].map(isStorableText)).toEqual([false, false, false, false]);
    expect(["", "héllo", "😀", "\ud83d\ude00 ok", "tab\tnl\n"].map(isStorableText)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it("Text, List and TextMap report the rule's message at the field", () => {
    const schema = v.object({ a: Text(3), b: List(Text(), 2), env: TextMap() });
    const issuesOf = (input: unknown) => v.safeParse(schema, input).issues ?? [];
    const ok = { a: "abc", b: ["x"], env: { K: "v" } };
    expect(issuesOf(ok)).toEqual([]);
    const [nul] = issuesOf({ ...ok, b: ["x", "\0"] });
    expect({ field: issueField(nul!), message: nul!.message, rule: isStorageRuleIssue(nul!) }).toEqual({
      field: "b.1",
      message: UNSTORABLE,
      rule: true,
    });
    expect(issuesOf({ ...ok, a: "abcd" })[0]?.message).toBe(TOO_LONG);
    expect(issuesOf({ ...ok, b: ["1", "2", "3"] })[0]?.message).toBe(TOO_MANY);
    expect(issuesOf({ ...ok, env: { "K\0": "v" } })[0]?.message).toBe(UNSTORABLE);
    expect(isStorageRuleIssue(issuesOf({ ...ok, a: 5 })[0]!)).toBe(false);
  });
});

describe("bounded timestamps", () => {
  it("accept RFC 3339 in years 0001-9999 and refuse the rest", () => {
    const good = ["2026-02-16T12:00:00Z", "2026-02-16T12:00:00.123456+01:00", "0001-01-01T00:00:00Z"];
    const bad = ["-271821-04-20T00:00:00Z", "+275760-09-13T00:00:00Z", "0000-01-01T00:00:00Z", "2026-13-40T00:00:00Z"];
    expect(good.map(isBoundedTimestamp)).toEqual([true, true, true]);
    expect([...bad, "now", "2026-02-16"].map(isBoundedTimestamp)).toEqual([false, false, false, false, false, false]);
  });
});

describe("unstorableAt", () => {
  it("finds the first unstorable key or value anywhere, by dot path", () => {
    expect(unstorableAt({ a: [1, { b: "ok" }, { c: "x\0" }] })).toBe("a.2.c");
    expect(unstorableAt({ a: { "k\ud800": 1 } })).toBe("a.k\ud800");
    expect(unstorableAt("\0")).toBe("body");
    expect(unstorableAt({ a: [null, true, 1, "fine"] })).toBeUndefined();
  });

  it("walks a deeply nested body without overflowing the stack", () => {
    let deep: unknown = "\0";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unstorableAt(deep)).toStartWith("0.0.0");
  });
});
