/** Attachments uploaded with a task and artifacts downloaded, over real HTTP on a real database. */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { digestHeader } from "../../contracts/task-files";
import { problemOf, startGatewayFixture, type GatewayFixture, type TestResponse } from "../../testing/gateway-fixture";
import { listTaskFiles, storeArtifact } from "../db/task-files";

let f: GatewayFixture;
let alice: string;
let bob: string;

beforeAll(async () => {
  f = await startGatewayFixture({ deps: { attachmentLimits: { maxAttachments: 2, maxAttachmentBytes: 1024 } } });
  alice = (await f.login("alice")).access_token;
  bob = (await f.login("bob")).access_token;
});
afterAll(() => f.close());

const form = (task: unknown, files: [string, string | Uint8Array][]) => {
  const body = new FormData();
  body.set("task", typeof task === "string" ? task : JSON.stringify(task));
  for (const [name, data] of files) body.append("file", new File([data], name, { type: "text/csv" }));
  return body;
};
const upload = (body: FormData, token = alice): Promise<TestResponse> =>
  fetch(f.url("/v1/tasks"), { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
const sha = (data: string | Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

describe("POST /v1/tasks with multipart/form-data", () => {
  it("stores the files with the task before its job is queued, named in its attachments", async () => {
    const res = await upload(form({ prompt: "cat data.csv", input_mode: "commands" }, [["data.csv", "a,b\n1,2\n"]]));
    expect(res.status).toBe(201);
    const task = await res.json();
    expect(task.attachments).toEqual(["data.csv"]);
    expect(await listTaskFiles(f.t.db, task.id, "attachment")).toEqual([
      { name: "data.csv", size_bytes: 8, sha256: sha("a,b\n1,2\n"), content_type: "text/csv" },
    ]);
  });

  it("still takes JSON with attachment paths (names only)", async () => {
    const res = await f.call("POST", "/v1/tasks", { token: alice, body: { prompt: "p", attachments: ["/a/b.txt"] } });
    const task = await res.json();
    expect([res.status, task.attachments]).toEqual([201, ["/a/b.txt"]]);
    expect(await listTaskFiles(f.t.db, task.id, "attachment")).toEqual([]);
  });

  it("refuses too many files, a file too large, an unsafe or repeated name and a bad task part", async () => {
    const task = { prompt: "p" };
    const cases: [FormData, string][] = [
      [
        form(task, [
          ["a", "1"],
          ["b", "2"],
          ["c", "3"],
        ]),
        "at most 2 attachments are allowed",
      ],
      [form(task, [["big", "x".repeat(1025)]]), "attachment big is larger than 1024 bytes"],
      [form(task, [["..", "1"]]), 'attachment name is not a safe file name: ".."'],
      [form(task, [["a\tb", "1"]]), 'attachment name is not a safe file name: "a\\tb"'],
      [
        form(task, [
          ["a", "1"],
          ["a", "2"],
        ]),
        "attachment a is given twice",
      ],
      [form("{not json", []), "the task part must hold the task as JSON"],
      [form({ nope: 1 }, []), "Invalid request body"],
    ];
    for (const [body, detail] of cases) {
      const p = await problemOf(await upload(body));
      expect([p.status, p.body.detail]).toEqual([400, detail]);
    }
    const named = new FormData();
    named.set("task", JSON.stringify(task));
    named.set("file", "not a file");
    expect((await problemOf(await upload(named))).body.detail).toBe("the file part must be a file");
  });

  it("bounds the body while it streams: past the attachments' bound it is refused unread", async () => {
    const huge = new Uint8Array(4 * 1024 * 1024);
    const p = await problemOf(await upload(form({ prompt: "p" }, [["a", huge]])));
    expect([p.status, p.body.detail]).toEqual([400, "Invalid request body"]);
    const broken = await fetch(f.url("/v1/tasks"), {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "multipart/form-data; boundary=x" },
      body: "garbage",
    });
    expect((await problemOf(broken)).status).toBe(400);
  });
});

describe("the OpenAPI document", () => {
  it("describes the multipart create and the artifact routes", async () => {
    const doc = await (await f.call("GET", "/openapi.json")).json();
    const create = doc.paths["/v1/tasks"].post.requestBody.content;
    expect(Object.keys(create)).toEqual(["application/json", "multipart/form-data"]);
    expect(create["multipart/form-data"].schema.required).toEqual(["task"]);
    expect(doc.paths["/v1/tasks/{id}/artifacts/{name}"].get.responses["200"].content).toHaveProperty(
      "application/octet-stream",
    );
  });
});

describe("GET /v1/tasks/{id}/artifacts", () => {
  it("lists and streams the owner's artifacts with length and digest; others get 404", async () => {
    const task = await (await upload(form({ prompt: "p" }, []))).json();
    const job = await f.t.db.selectFrom("jobs").select("id").where("task_id", "=", task.id).executeTakeFirstOrThrow();
    const data = new Uint8Array([0, 1, 2, 255]);
    await storeArtifact(f.t.db, task.id, job.id, { name: "report.txt", data });
    const listed = await f.call("GET", `/v1/tasks/${task.task_name}/artifacts`, { token: alice });
    expect(await listed.json()).toEqual({
      task_id: task.id,
      artifacts: [{ name: "report.txt", size_bytes: 4, sha256: sha(data), content_type: "text/plain" }],
    });
    const got = await f.call("GET", `/v1/tasks/${task.id}/artifacts/report.txt`, { token: alice });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-length")).toBe("4");
    expect(got.headers.get("repr-digest")).toBe(digestHeader(sha(data)));
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(data);
    for (const [path, token] of [
      [`/v1/tasks/${task.id}/artifacts`, bob],
      [`/v1/tasks/${task.id}/artifacts/report.txt`, bob],
      [`/v1/tasks/${task.id}/artifacts/missing`, alice],
      [`/v1/tasks/${task.id}/artifacts/%2E%2E`, alice],
    ] as const)
      expect((await f.call("GET", path, { token })).status).toBe(404);
    expect((await f.call("GET", `/v1/tasks/${task.id}/artifacts`)).status).toBe(401);
  });
});
