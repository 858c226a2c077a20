import { describe, expect, it } from "bun:test";
import { createRevokedSessions } from "./revoked-sessions";

describe("createRevokedSessions", () => {
  it("holds a session until its last token expires, then forgets it", () => {
    let now = new Date("2026-03-01T10:00:00Z");
    const revoked = createRevokedSessions(() => now);
    revoked.add([{ id: "s1", until: new Date("2026-03-01T10:15:00Z") }]);
    revoked.add([{ id: "s1", until: new Date("2026-03-01T10:05:00Z") }]); // an earlier bound never shortens it
    expect([revoked.has("s1"), revoked.has("s2")]).toEqual([true, false]);
    now = new Date("2026-03-01T10:16:00Z");
    expect(revoked.has("s1")).toBe(false);
    expect(revoked.size).toBe(0);
  });
});
