import { describe, expect, it } from "bun:test";
import { type EgressAttempt, MAX_EGRESS_RECORDS } from "../../contracts/egress";
import { createEgressRecords } from "./egress-records";

const attempt = (decision: EgressAttempt["decision"]): EgressAttempt => ({
  host: "a.test",
  port: 443,
  kind: "connect",
  decision,
  bytes_sent: 0,
  bytes_received: 0,
  duration_ms: 0,
});

describe("egress records", () => {
  it("show open attempts with their duration so far, and fix it when they end", () => {
    let t = 0;
    const records = createEgressRecords(() => t);
    const r = records.open(attempt("allowed"));
    t = 40;
    expect(records.attempts()).toMatchObject([{ duration_ms: 40 }]);
    r.end();
    r.end();
    t = 90;
    expect(records.attempts()).toMatchObject([{ duration_ms: 40 }]);
    expect(records.refused()).toBe(false);
    records.open(attempt("refused"));
    expect(records.refused()).toBe(true);
  });

  it(`keep the first ${MAX_EGRESS_RECORDS} attempts and count the rest`, () => {
    const records = createEgressRecords();
    for (let i = 0; i <= MAX_EGRESS_RECORDS; i++) records.open(attempt("refused")).end();
    expect(records.attempts()).toHaveLength(MAX_EGRESS_RECORDS);
    expect(records.dropped).toBe(1);
    expect(records.refused()).toBe(true);
  });
});
