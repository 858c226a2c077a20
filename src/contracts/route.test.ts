import { describe, expect, it } from "bun:test";
import { route, withQuery, type AnyRoute } from "./route";
import { canceledJobId, cancelTarget, USER_API, USER_API_SCOPES, WORKER_API } from "./routes";

describe("route", () => {
  it("builds a path from the pattern's params, each segment encoded", () => {
    expect(USER_API.taskLogs.path({ id: "my task/1" })).toBe("/v1/tasks/my%20task%2F1/logs");
    expect(USER_API.revokeSessions.path({ id: "u-1" })).toBe("/v1/users/u-1/revoke_sessions");
    expect(USER_API.login.path()).toBe("/v1/auth/login");
  });

  it("keeps a colon inside a segment literal: the Worker API's `jobs:run` and `{id}:cancel`", () => {
    expect(WORKER_API.runJob.path()).toBe("/v1/worker/jobs:run");
    expect(WORKER_API.cancelJob.path({ target: cancelTarget("j-1") })).toBe("/v1/worker/jobs/j-1:cancel");
    expect([canceledJobId("j-1:cancel"), canceledJobId("j-1")]).toEqual(["j-1", undefined]);
  });

  it("refuses to build a path without a value for each param", () => {
    const r = route("GET", "/a/:x/:y");
    expect(() => (r.path as (p: object) => string)({ x: "1" })).toThrow("no value for :y");
  });

  it("adds only the query entries that are set", () => {
    expect(withQuery("/p", { a: "1", b: undefined, c: 2, d: "" })).toBe("/p?a=1&c=2&d=");
    expect(withQuery("/p", { a: undefined })).toBe("/p");
  });

  it("marks every user API route inside a token-only group as needing the token", () => {
    const under = (pattern: string) =>
      [USER_API_SCOPES.users, USER_API_SCOPES.tasks].some(
        (g) => pattern === g.slice(0, -2) || pattern.startsWith(g.slice(0, -1)),
      );
    const routes = Object.values<AnyRoute>(USER_API).filter((r) => under(r.pattern));
    expect(routes.length).toBeGreaterThan(5);
    expect(routes.filter((r) => !r.auth)).toEqual([]);
  });
});
