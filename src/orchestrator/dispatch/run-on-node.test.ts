import { describe, expect, it } from "bun:test";
import { runToIdle, useDispatchFixture } from "../../testing/dispatch-fixture";
import { fakeRunAnswer } from "../../testing/fake-worker";
import { insertTaskWithJob } from "../../testing/queued-job";
import { createSecretBox, keyFromPassphrase } from "../auth/secret-box";
import type { RunJobRequest } from "../../contracts/worker-api";
import { agentJobSpec } from "../tasks/agent-job";
import { createJobCanceller } from "./cancel-jobs";
import { insertAttachments } from "../db/task-files";

const f = useDispatchFixture();
const resultOf = async (jobId: string) => JSON.parse((await f.jobRow(jobId)).result as string);

describe("running a job on its node", () => {
  it("fails a job the worker rejects or answers with a failure, and one whose payload is invalid, without retrying", async () => {
    const w = await f.node("node-a", 4);
    w.answer = (req) =>
      req.sandbox.command?.[0] === "boom"
        ? new Response("nope", { status: 500 })
        : Response.json(fakeRunAnswer(req, "failed"));
    const rejected = await insertTaskWithJob(f.t.db, { command: ["boom"] });
    const failed = await insertTaskWithJob(f.t.db, { command: ["false"] });
    const invalid = await insertTaskWithJob(f.t.db, { command: [] });
    const garbled = await insertTaskWithJob(f.t.db);
    await f.t.db.updateTable("jobs").set({ payload: "{not json" }).where("id", "=", garbled.jobId).execute();
    await runToIdle(f.dispatcher());
    expect((await resultOf(rejected.jobId)).error).toBe("worker answered 500: nope");
    expect(await resultOf(failed.jobId)).toMatchObject({ status: "failed", exit_code: 1 });
    expect((await resultOf(invalid.jobId)).error).toContain("invalid job payload");
    expect((await resultOf(garbled.jobId)).error).toContain("invalid job payload");
    for (const j of [rejected, failed, invalid, garbled]) expect((await f.taskRow(j.taskId)).status).toBe("failed");
    expect(w.runs.length).toBe(2);
  });

  it("tells the node which models a job may ask: a prompt job's own, else the node's defaults", async () => {
    const w = await f.node("node-a", 4);
    const prompt = await insertTaskWithJob(f.t.db, {
      image: "alpine",
      command: ["cynode-prompt"],
      env: { CYNODE_PROMPT: "hi", CYNODE_INFERENCE_MODEL: "tiny:1b" },
      use_inference: true,
    });
    const command = await insertTaskWithJob(f.t.db, { image: "alpine", command: ["true"], use_inference: true });
    await runToIdle(f.dispatcher());
    const sent = (jobId: string) => w.runs.find((r) => r.job_id === jobId)?.inference;
    expect(sent(prompt.jobId)).toEqual({ allowed_models: ["tiny:1b"] });
    expect(sent(command.jobId)).toBeUndefined();
  });

  it("counts a worker that never answers within the HTTP timeout as lost", async () => {
    const { w, d, jobId } = await f.heldJob({ maxHttpTimeoutMs: 100 });
    await d.drain();
    expect(await f.jobRow(jobId)).toMatchObject({ status: "queued", lease_expirations: 1 });
    expect(String(f.logged("dispatch")[0]?.error)).toContain("TimeoutError");
    w.release();
  });

  it("keeps a canceled job canceled when the worker answers late, and the cancel reaches the worker", async () => {
    const { w, d, taskId, jobId } = await f.heldJob();
    await w.waitForRuns(1);

    // What the gateway's cancel does: mark task and jobs canceled, then tell the node.
    await f.t.db.updateTable("tasks").set({ status: "canceled", closed: true }).where("id", "=", taskId).execute();
    const canceled = await f.t.db
      .updateTable("jobs")
      .set({ status: "canceled" })
      .where("id", "=", jobId)
      .returning(["id", "node_id"])
      .execute();
    await createJobCanceller({ db: f.t.db, secrets: f.secrets, log: f.log })(
      canceled.map((j) => ({ id: j.id, node_id: j.node_id! })),
    );
    expect(w.cancels).toEqual([jobId]);

    w.release();
    await d.drain();
    expect((await f.jobRow(jobId)).status).toBe("canceled");
    expect((await f.taskRow(taskId)).status).toBe("canceled");
    expect(f.dispatched()).toEqual(["discarded"]);
  });

  it("leaves a job to its lease when the pass cannot talk to the node (token sealed with another key)", async () => {
    const w = await f.node("node-a", 1);
    const { jobId } = await insertTaskWithJob(f.t.db);
    const d = f.dispatcher({ secrets: createSecretBox(keyFromPassphrase("another key")) });
    expect(await d.tick()).toBe(1);
    await d.drain();
    expect(f.dispatched()).toEqual(["error"]);
    expect((await f.jobRow(jobId)).status).toBe("running");
    expect(w.runs.length).toBe(0);
  });
});

describe("running an agent job", () => {
  it("sends an agent job to an inference node only, with its spec's models, and keeps a stdout the node sent", async () => {
    const plain = await f.node("plain", 4);
    const w = await f.node("inference", 4, { inference: true });
    const spec = (jobId: string, models?: string[]) =>
      agentJobSpec({ jobId, taskId: "t", goal: "g", allowedModels: models ?? [] });
    const withModels = await insertTaskWithJob(f.t.db, { job_spec_json: spec("a", ["m:1"]) });
    const noModels = await insertTaskWithJob(f.t.db, { job_spec_json: spec("b") });
    const sba = (req: RunJobRequest) => ({
      protocol_version: "1.0",
      job_id: req.job_id,
      status: "success",
      final_answer: "the answer",
      steps: [],
      artifacts: [],
    });
    w.answer = (req) =>
      Response.json({
        ...fakeRunAnswer(req),
        ...(req.job_id === noModels.jobId ? {} : { stdout: "" }),
        sba_result: sba(req),
      });
    await runToIdle(f.dispatcher());
    expect(plain.runs).toEqual([]);
    const sent = (jobId: string) => w.runs.find((r) => r.job_id === jobId)?.inference;
    expect(sent(withModels.jobId)).toEqual({ allowed_models: ["m:1"] });
    expect(sent(noModels.jobId)).toBeUndefined();
    expect((await resultOf(withModels.jobId)).stdout).toBe("the answer");
    expect((await resultOf(noModels.jobId)).stdout).toBe(`ran ${noModels.jobId}`);
    expect((await resultOf(noModels.jobId)).sba_result.final_answer).toBe("the answer");
  });
});

describe("a job's attachments", () => {
  it("tells the node the task's uploaded attachments by name, size and digest (none: no field)", async () => {
    const w = await f.node("node-a", 4);
    const withFiles = await insertTaskWithJob(f.t.db);
    const without = await insertTaskWithJob(f.t.db);
    await insertAttachments(f.t.db, withFiles.taskId, [{ name: "a.csv", data: new TextEncoder().encode("x") }]);
    await runToIdle(f.dispatcher());
    const sent = (jobId: string) => w.runs.find((r) => r.job_id === jobId)?.attachments;
    const sha = new Bun.CryptoHasher("sha256").update("x").digest("hex");
    expect(sent(withFiles.jobId)).toEqual([{ name: "a.csv", size_bytes: 1, sha256: sha }]);
    expect(sent(without.jobId)).toBeUndefined();
  });
});
