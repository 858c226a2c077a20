import { describe, expect, it } from "bun:test";
import { entryAllows, entryCovers, formatHostEntry, parseHostEntry, parseHostList } from "./egress-hosts";

describe("egress host entries", () => {
  it("parse names, wildcards, addresses and ports, and refuse anything else", () => {
    expect(parseHostEntry("PyPI.org.")).toEqual({ host: "pypi.org" });
    expect(parseHostEntry("*.example.com:8443")).toEqual({ host: "*.example.com", port: 8443 });
    expect(parseHostEntry("*")).toEqual({ host: "*" });
    expect(parseHostEntry("127.0.0.2:8080")).toEqual({ host: "127.0.0.2", port: 8080 });
    expect(parseHostEntry("[::1]:443")).toEqual({ host: "::1", port: 443 });
    for (const bad of [
      "",
      "a b",
      "*.*",
      "a.*.b",
      "host:0",
      "host:70000",
      "::1",
      "[nothost]",
      "-a.b",
      "a..b",
      "http://x",
    ])
      expect(parseHostEntry(bad)).toBeUndefined();
  });

  it("format back to host[:port] with IPv6 bracketed", () => {
    expect(formatHostEntry({ host: "::1", port: 443 })).toBe("[::1]:443");
    expect(formatHostEntry({ host: "a.test" })).toBe("a.test");
  });

  it("allow 80 and 443 without a port, only theirs with one; wildcards match names, never addresses", () => {
    const any = parseHostEntry("*")!;
    expect(entryAllows(parseHostEntry("a.test")!, "a.test", 443)).toBe(true);
    expect(entryAllows(parseHostEntry("a.test")!, "a.test", 8080)).toBe(false);
    expect(entryAllows(parseHostEntry("a.test:8080")!, "a.test", 8080)).toBe(true);
    expect(entryAllows(parseHostEntry("*.a.test")!, "x.a.test", 80)).toBe(true);
    expect(entryAllows(parseHostEntry("*.a.test")!, "a.test", 80)).toBe(false);
    expect(entryAllows(any, "anything.test", 443)).toBe(true);
    expect(entryAllows(any, "10.0.0.1", 443)).toBe(false);
    expect(entryAllows(parseHostEntry("10.0.0.1")!, "10.0.0.1", 443)).toBe(true);
  });

  it("cover an entry only when they allow every destination it does", () => {
    const covers = (outer: string, inner: string) => entryCovers(parseHostEntry(outer)!, parseHostEntry(inner)!);
    expect(covers("*.org", "pypi.org")).toBe(true);
    expect(covers("*.org", "*.pypi.org")).toBe(true);
    expect(covers("pypi.org", "*.org")).toBe(false);
    expect(covers("pypi.org", "pypi.org:443")).toBe(true);
    expect(covers("pypi.org", "pypi.org:8080")).toBe(false);
    expect(covers("pypi.org:8080", "pypi.org:8080")).toBe(true);
    expect(covers("pypi.org:8080", "pypi.org")).toBe(false);
    expect(covers("*", "127.0.0.2:80")).toBe(false);
    expect(covers("127.0.0.2", "127.0.0.2:80")).toBe(true);
  });

  it("read a comma- or space-separated list, naming what is not an entry", () => {
    expect(parseHostList(" a.test, *.b.test:81  bad..x ")).toEqual({
      entries: [{ host: "a.test" }, { host: "*.b.test", port: 81 }],
      invalid: ["bad..x"],
    });
  });
});
