import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { problemHandler } from "./http-problem";
import { memoryLogger } from "./log";
import { requestDatabaseProblem } from "./request-database-error";

let t: TestDatabase;
beforeAll(async () => void (t = await createTestDatabase()));
afterAll(() => t.drop());

/** The error a real query throws. */
const errorOf = (run: () => Promise<unknown>) =>
  run().then(
    () => undefined,
    (e: unknown) => e,
  );

describe("requestDatabaseProblem", () => {
  it("maps errors the request caused to 4xx", async () => {
    const nul = await errorOf(() => sql`select ${"a\0b"}::text`.execute(t.db));
    expect(requestDatabaseProblem(nul)?.status).toBe(400);
    const range = await errorOf(() => sql`select ${"99999-01-01"}::date`.execute(t.db));
    expect(requestDatabaseProblem(range)?.status).toBe(400);
    const fk = await errorOf(() =>
      sql`insert into tasks (id, created_by, status, prompt) values (gen_random_uuid(), gen_random_uuid(), 'pending', 'p')`.execute(
        t.db,
      ),
    );
    expect(requestDatabaseProblem(fk)?.status).toBe(400);
    await sql`create table uniq (v text primary key)`.execute(t.db);
    await sql`insert into uniq values ('x')`.execute(t.db);
    const dup = await errorOf(() => sql`insert into uniq values ('x')`.execute(t.db));
    expect(requestDatabaseProblem(dup)?.status).toBe(409);
    const many = Array.from({ length: 70_000 }, (_, i) => sql`${i}`);
    const params = await errorOf(() => sql`select ${sql.join(many)}`.execute(t.db));
    expect(requestDatabaseProblem(params)?.status).toBe(400);
  });

  it("leaves server faults alone", async () => {
    const missing = await errorOf(() => sql`select * from no_such_table`.execute(t.db));
    expect(requestDatabaseProblem(missing)).toBeUndefined();
    expect(requestDatabaseProblem(new Error("boom"))).toBeUndefined();
    expect(requestDatabaseProblem(null)).toBeUndefined();
  });
});

describe("problemHandler", () => {
  const log = memoryLogger("t");
  const app = new Hono()
    .get("/db", () => errorOf(() => sql`select ${"\0"}::text`.execute(t.db)).then((e) => Promise.reject(e)))
    .get("/bug", () => {
      throw new Error("secret internals");
    })
    .onError(problemHandler({ log }));

  it("answers a request-caused database error with its 4xx", async () => {
    expect((await app.request("/db")).status).toBe(400);
  });

  it("answers anything else with a 500 problem carrying a request id that is also logged", async () => {
    const res = await app.request("/bug");
    const body = (await res.json()) as { status: number; instance: string; detail: string };
    const id = res.headers.get("x-request-id");
    expect({ status: res.status, type: res.headers.get("content-type"), body }).toMatchObject({
      status: 500,
      type: "application/problem+json",
      body: { status: 500, detail: "Internal server error", instance: `urn:cynodeai:request:${id}` },
    });
    expect(JSON.stringify(body)).not.toContain("secret internals");
    expect(log.lines.some((l) => l.request_id === id && l.msg === "request failed")).toBe(true);
  });
});
