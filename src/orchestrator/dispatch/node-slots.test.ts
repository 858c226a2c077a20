import { describe, expect, it } from "bun:test";
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { Node } from "../db/schema";
import { leastLoaded, toSlot, type Slot } from "./node-slots";

const node = { id: "n1", node_slug: "node-1", suspect_since: null, worker_api_target_url: "http://n1:12090" } as Node;
const report = (r: Partial<NodeCapabilityReport>) => r as NodeCapabilityReport;
const slot = (id: string, running: number, max: number): Slot => ({ ...toSlot(node, undefined, running, max), id });

describe("toSlot", () => {
  it("takes the node's max_concurrency, else the default, and none when it cannot run sandboxes", () => {
    expect(toSlot(node, undefined, 1, 4)).toMatchObject({ id: "n1", slug: "node-1", max: 4, running: 1 });
    expect(toSlot(node, report({ sandbox: { supported: true, max_concurrency: 2 } }), 0, 4).max).toBe(2);
    expect(toSlot(node, report({ sandbox: { supported: false, max_concurrency: 2 } }), 0, 4).max).toBe(0);
  });

  it("runs jobs that need a model only when the report says inference is running", () => {
    expect(toSlot(node, report({ inference: { running: true } }), 0, 4).inference).toBe(true);
    expect(toSlot(node, report({ inference: { supported: true } }), 0, 4).inference).toBe(false);
  });
});

describe("leastLoaded", () => {
  it("picks the smallest share of capacity in use, then the fewest jobs, then the first", () => {
    expect(leastLoaded([slot("a", 1, 2), slot("b", 1, 4)]).id).toBe("b");
    expect(leastLoaded([slot("a", 2, 4), slot("b", 1, 2)]).id).toBe("b");
    expect(leastLoaded([slot("a", 0, 2), slot("b", 0, 4)]).id).toBe("a");
  });
});
