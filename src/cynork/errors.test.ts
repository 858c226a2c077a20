import { describe, expect, it } from "bun:test";
import { exitCodeForStatus, statusMessage } from "./errors";

describe("gateway status → exit code", () => {
  it("follows reference-contracts 7.3", () => {
    const codes = [400, 401, 403, 404, 409, 422, 429, 500, 502, 418].map(exitCodeForStatus);
    expect(codes).toEqual([6, 3, 3, 4, 5, 6, 7, 7, 7, 7]);
  });

  it("prints the status line and the problem detail", () => {
    expect(statusMessage(404, "Task not found")).toBe("404 Not Found: Task not found");
    expect(statusMessage(503)).toBe("503 Service Unavailable");
    expect(statusMessage(599)).toBe("599 Unknown Status");
  });
});
