import { describe, expect, it } from "bun:test";
import { useDispatchFixture } from "../../testing/dispatch-fixture";
import { createJobCanceller } from "./cancel-jobs";

const f = useDispatchFixture();

describe("createJobCanceller", () => {
  it("logs instead of throwing when a node cannot be reached or has no endpoint", async () => {
    const w = await f.node("node-a", 1);
    const node = await f.t.db.selectFrom("nodes").select("id").executeTakeFirstOrThrow();
    await w.stop();
    const cancel = createJobCanceller({ db: f.t.db, secrets: f.secrets, log: f.log, timeoutMs: 1000 });
    await cancel([
      { id: "j1", node_id: node.id },
      { id: "j2", node_id: crypto.randomUUID() },
    ]);
    await cancel([]);
    expect(f.log.lines.filter((l) => String(l.msg).startsWith("job cancel")).map((l) => [l.msg, l.ok])).toEqual([
      ["job cancel not sent: node has no worker endpoint", undefined],
      ["job cancel sent to node", false],
    ]);
    await createJobCanceller({
      db: {
        selectFrom: () => {
          throw new Error("db down");
        },
      } as never,
      secrets: f.secrets,
      log: f.log,
    })([{ id: "j3", node_id: node.id }]);
    expect(f.log.lines.at(-1)?.msg).toBe("job cancel failed");
  });
});
