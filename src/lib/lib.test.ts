import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { parseDuration } from "./duration";
import { ProblemError, notFoundHandler, problemHandler } from "./http-problem";
import { batchedStderr, createLogger, lineBatcher, memoryLogger, REDACTED } from "./log";
import { rfc3339 } from "./rfc3339";
import { parseListenAddress, serveApp } from "./serve";

describe("parseDuration", () => {
  it("reads Go-style durations and bare seconds", () => {
    expect([
      parseDuration("15m"),
      parseDuration("168h"),
      parseDuration("1m30s"),
      parseDuration("500ms"),
      parseDuration("30"),
    ]).toEqual([900_000, 604_800_000, 90_000, 500, 30_000]);
  });
  it("refuses anything else", () => {
    for (const bad of ["", "5 minutes", "m", "10x", "1h-"])
      expect(() => parseDuration(bad)).toThrow("invalid duration");
  });
});

describe("parseListenAddress", () => {
  it("reads :port, host:port, [v6]:port and a bare port", () => {
    expect(parseListenAddress(":12080")).toEqual({ hostname: "0.0.0.0", port: 12080 });
    expect(parseListenAddress("127.0.0.1:1")).toEqual({ hostname: "127.0.0.1", port: 1 });
    expect(parseListenAddress("[::1]:8")).toEqual({ hostname: "::1", port: 8 });
    expect(parseListenAddress("9")).toEqual({ hostname: "0.0.0.0", port: 9 });
  });
  it("refuses garbage and out-of-range ports", () => {
    for (const bad of ["host", ":70000", "a:b"])
      expect(() => parseListenAddress(bad)).toThrow("invalid listen address");
  });
});

describe("logger", () => {
  it("redacts secret-looking keys at any depth and keeps the rest", () => {
    const log = memoryLogger();
    log.child({ node: "n1" }).info("hello", {
      password: "p",
      nested: { Authorization: "Bearer x", ok: 1, list: [{ psk: "k" }] },
      err: new Error("boom"),
    });
    expect(log.lines[0]).toMatchObject({
      level: "info",
      msg: "hello",
      node: "n1",
      password: REDACTED,
      nested: { Authorization: REDACTED, ok: 1, list: [{ psk: REDACTED }] },
      err: { message: "boom" },
    });
  });
  it("drops lines below its level", () => {
    const lines: string[] = [];
    const log = createLogger({ name: "x", level: "warn", write: (l) => lines.push(l), now: () => new Date(0) });
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["c", "d"]);
    expect(JSON.parse(lines[0]!).time).toBe("1970-01-01T00:00:00.000Z");
  });
});

describe("problem handler", () => {
  const log = memoryLogger();
  const app = new Hono()
    .get("/problem", () => {
      throw new ProblemError(409, "taken", { "x-extra": "1" });
    })
    .get("/http", () => {
      throw new HTTPException(413);
    })
    .get("/boom", () => {
      throw new Error("secret internals");
    });
  app.onError(problemHandler({ log }));
  app.notFound(notFoundHandler);

  it("renders a ProblemError with its status, headers and detail", async () => {
    const res = await app.request("/problem");
    expect([res.status, res.headers.get("x-extra"), res.headers.get("content-type")]).toEqual([
      409,
      "1",
      "application/problem+json",
    ]);
    expect(await res.json()).toEqual({
      type: "https://cynode.ai/specs/conflict",
      title: "Conflict",
      status: 409,
      detail: "taken",
    });
  });
  it("maps hono's own 413 and hides internal errors behind a 500 without a stack", async () => {
    expect(((await (await app.request("/http")).json()) as { title: string }).title).toBe("Request Entity Too Large");
    const res = await app.request("/boom");
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).not.toContain("secret internals");
    expect(JSON.parse(text).detail).toBe("Internal server error");
    expect(log.lines.at(-1)).toMatchObject({ level: "error", path: "/boom" });
  });
  it("answers unknown routes with a 404 problem", async () => {
    expect((await app.request("/nope")).status).toBe(404);
  });
});

describe("rfc3339", () => {
  it("drops milliseconds", () => expect(rfc3339(new Date("2026-02-16T12:00:00.789Z"))).toBe("2026-02-16T12:00:00Z"));
});

describe("serveApp", () => {
  it("lets an in-flight request finish on stop, and refuses new ones after", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const served = serveApp(
      new Hono().get("/slow", async (c) => {
        await held;
        return c.text("done");
      }),
      { hostname: "127.0.0.1", port: 0 },
    );
    const pending = fetch(new URL("/slow", served.url)).then((r) => r.text());
    await Bun.sleep(50); // let the request reach the handler
    const stopping = served.stop();
    release();
    expect(await pending).toBe("done");
    await stopping;
    await expect(fetch(new URL("/slow", served.url))).rejects.toThrow();
  });

  it("closes a request that outlives the grace period", async () => {
    const served = serveApp(
      new Hono().get("/hang", () => new Promise<Response>(() => {})),
      { hostname: "127.0.0.1", port: 0 },
    );
    const pending = fetch(new URL("/hang", served.url)).then(
      () => "answered",
      () => "closed",
    );
    await Bun.sleep(50);
    await served.stop(100);
    expect(await pending).toBe("closed");
  });
});

describe("lineBatcher", () => {
  it("emits the lines of one turn together, and drains what is pending", async () => {
    const emitted: string[] = [];
    const b = lineBatcher((t) => emitted.push(t));
    b.write("a");
    b.write("b");
    await new Promise((r) => setImmediate(r));
    b.write("c");
    expect(b.drain()).toBe("c\n");
    await new Promise((r) => setImmediate(r));
    expect(emitted).toEqual(["a\nb\n"]);
  });
});

describe("logger on stderr", () => {
  it("batches the lines of one turn into one write, and writes what is pending at exit", async () => {
    const script = `
      import { batchedStderr, createLogger } from ${JSON.stringify(`${import.meta.dir}/log.ts`)};
      const stderr = batchedStderr();
      process.on("exit", stderr.flush);
      const log = createLogger({ name: "t", write: stderr.write });
      const writes = [];
      const real = process.stderr.write.bind(process.stderr);
      process.stderr.write = (chunk, ...rest) => (writes.push(String(chunk)), real(chunk, ...rest));
      log.info("one"); log.info("two"); log.child({ c: 1 }).info("three");
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      console.log(JSON.stringify(writes.map((w) => w.split("\\n").filter(Boolean).length)));
      log.info("at-exit");
      process.exit(0);
    `;
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    expect(out.trim()).toBe("[3]");
    expect(
      err
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).msg),
    ).toEqual(["one", "two", "three", "at-exit"]);
  });

  it("hands a turn's lines to stderr in one write", async () => {
    const writes: string[] = [];
    const real = process.stderr.write;
    process.stderr.write = ((chunk: string) => writes.push(chunk) > 0) as typeof real;
    try {
      const stderr = batchedStderr();
      createLogger({ name: "t", write: stderr.write }).info("a");
      stderr.write("b");
      await new Promise((r) => setImmediate(r));
      stderr.flush(); // nothing pending: writes nothing visible
    } finally {
      process.stderr.write = real;
    }
    expect(writes.map((w) => w.split("\n").length - 1)).toEqual([2]);
  });

  it("writes each line at once when no writer is given", async () => {
    const script = `
      import { createLogger } from ${JSON.stringify(`${import.meta.dir}/log.ts`)};
      createLogger({ name: "t" }).info("now");
      process.exit(0);
    `;
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(JSON.parse(await new Response(p.stderr).text()).msg).toBe("now");
  });
});
