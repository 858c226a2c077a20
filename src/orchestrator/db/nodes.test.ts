import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { liveInferenceNodes } from "../chat/live-nodes";
import { reportingSlots } from "../dispatch/fill-slots";
import { createChatNodes } from "../gateway/chat-nodes";
import { OpenAIApiError } from "../gateway/openai-errors";
import { checkReadiness } from "../readiness";
import { liveNodes, markNodeSuspect, recordCapability, recordConfigAck, registerNode, setConfigVersion } from "./nodes";

const now = new Date("2026-03-01T10:00:00Z");
let t: TestDatabase;

/** A node walked to live in the database: registered, configured, acked, reporting inference with `model`. */
async function liveNode(slug: string, model: string): Promise<string> {
  const id = crypto.randomUUID();
  await registerNode(t.db, { id, slug, workerUrl: `http://${slug}:12090`, sealedToken: "sealed", now });
  const report = {
    version: 1,
    node: { node_slug: slug },
    inference: { supported: true, running: true, available_models: [model] },
  };
  await recordCapability(t.db, { nodeId: id, report, hash: "h", workerUrl: undefined, now });
  await setConfigVersion(t.db, { nodeId: id, version: "v1", hash: "c", now });
  await recordConfigAck(t.db, { nodeId: id, version: "v1", status: "applied", at: now, error: null, now });
  return id;
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe("node liveness: one rule for readiness, the dispatcher and the chat router", () => {
  it("a suspect node is chosen by none of the three", async () => {
    const id = await liveNode("suspect-node", "m1");
    expect((await liveNodes(t.db, { now })).map((n) => n.id)).toEqual([id]);
    expect(await checkReadiness(t.db, now)).toEqual({ ready: true });
    await markNodeSuspect(t.db, id, now);

    expect(await liveNodes(t.db, { now })).toEqual([]);
    expect((await checkReadiness(t.db, now)).ready).toBe(false);
    // The dispatcher still sees it, to probe it, but as suspect: its loop gives work only to slots without suspectSince.
    const slots = await reportingSlots(t.db, { at: now, staleMs: 180_000, defaultMax: 1 });
    expect(slots.map((s) => [s.id, s.suspectSince !== null])).toEqual([[id, true]]);
    expect(await liveInferenceNodes(t.db, { now })).toEqual([]);
    const chat = createChatNodes({ db: t.db, now: () => now, defaultModel: "m1" });
    const err = await chat.candidatesFor("m1").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAIApiError);
    expect((err as OpenAIApiError).status).toBe(503);
    expect((await chat.models()).data).toEqual([]);
  });

  it("a node whose last report is older than the window is not live", async () => {
    await liveNode("stale-node", "m2");
    const later = new Date(now.getTime() + 180_001);
    expect((await liveNodes(t.db, { now: later })).map((n) => n.node_slug)).not.toContain("stale-node");
    expect((await liveNodes(t.db, { now })).map((n) => n.node_slug)).toContain("stale-node");
  });
});
