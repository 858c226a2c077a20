/** Attachments into /workspace and artifacts out of /job/artifacts, in real podman sandboxes. */
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { randomBytes } from "node:crypto";
import type { TaskFileView } from "../../contracts/task-files";
import type { RunJobRequest } from "../../contracts/worker-api";
import { memoryLogger } from "../../lib/log";
import { ensureSandboxImage, testPodman, testSettings } from "../../testing/sandbox-fixture";
import { attachmentRefs, memoryFiles, sha256Hex } from "../../testing/memory-job-files";
import { collectArtifacts, type JobFiles } from "./job-files";
import { createSandboxRunner } from "./run-job";

setDefaultTimeout(120_000);
const podman = testPodman();
const MiB = 1024 * 1024;
const sha = sha256Hex;

function job(script: string, attachments: Record<string, Uint8Array> = {}, image?: string): RunJobRequest {
  const id = crypto.randomUUID();
  const refs = attachmentRefs(attachments);
  return {
    version: 1,
    task_id: `task-${id}`,
    job_id: id,
    sandbox: { command: ["sh", "-c", script], ...(image ? { image } : {}) },
    ...(refs.length ? { attachments: refs } : {}),
  };
}

async function runner(files?: JobFiles, settings = {}) {
  const r = createSandboxRunner({
    podman,
    settings: await testSettings({ limits: { pids: 64, memoryMb: 512, cpus: 1 }, ...settings }),
    log: memoryLogger(),
  });
  if (files) r.useJobFiles(files);
  return r;
}

beforeAll(() => ensureSandboxImage(podman));

describe("job files (real podman)", () => {
  it("places a CSV in /workspace before the job and brings back the report it wrote", async () => {
    const csv = new TextEncoder().encode("a,b\n1,2\n3,4\n");
    const { files, stored } = memoryFiles({ "data.csv": csv });
    const script = 'ls; wc -l < data.csv > "$CYNODE_ARTIFACTS_DIR/report.txt"; echo "$CYNODE_ARTIFACTS_DIR"';
    const res = await (await runner(files)).run(job(script, { "data.csv": csv }));
    expect([res.status, res.stdout]).toEqual(["completed", "data.csv\n/job/artifacts\n"]);
    expect(res.artifacts).toEqual([
      { name: "report.txt", size_bytes: 2, sha256: sha("3\n"), content_type: "text/plain" },
    ]);
    expect(res.artifacts_omitted).toEqual([]);
    expect(new TextDecoder().decode(stored.get("report.txt"))).toBe("3\n");
  });

  it("round-trips a 10 MiB attachment byte-identical (attach, copy to artifacts, store)", async () => {
    const big = new Uint8Array(randomBytes(10 * MiB));
    const { files, stored } = memoryFiles({ "big.bin": big });
    const res = await (await runner(files)).run(job('cp big.bin "$CYNODE_ARTIFACTS_DIR/"', { "big.bin": big }));
    expect(res.status).toBe("completed");
    expect(res.artifacts?.[0]).toMatchObject({ name: "big.bin", size_bytes: 10 * MiB, sha256: sha(big) });
    expect(sha(stored.get("big.bin")!)).toBe(sha(big));
  });

  it("completes a job that leaves 101 MiB, naming what was left out past the cap (and what is no file)", async () => {
    const { files, stored } = memoryFiles({});
    const script = [
      'cd "$CYNODE_ARTIFACTS_DIR"',
      "head -c 62914560 /dev/zero > a.bin",
      "head -c 42991616 /dev/zero > b.bin",
      "mkdir sub; ln -s /etc/passwd link; printf x > \"$(printf 'bad\\tname')\"",
      "sleep 600 &",
    ].join("; ");
    const res = await (await runner(files)).run(job(script));
    expect(res.status).toBe("completed");
    expect(res.artifacts?.map((a) => a.name)).toEqual(["a.bin"]);
    expect(res.artifacts_omitted).toEqual([
      { name: "b.bin", size_bytes: 42991616, reason: `past the artifact cap of ${100 * MiB} bytes` },
      { name: "bad\tname", size_bytes: 1, reason: "not a safe file name" },
      { name: "link", reason: "not a regular file" },
      { name: "sub", reason: "not a regular file" },
    ]);
    expect(stored.get("a.bin")?.length).toBe(62914560);
  });

  it("fails a job whose attachments cannot be placed, and one that has no shell for them", async () => {
    const data = new TextEncoder().encode("x");
    const wrong = memoryFiles({ "a.txt": new TextEncoder().encode("y") });
    const bad = await (await runner(wrong.files)).run(job("true", { "a.txt": data }));
    expect([bad.status, bad.stderr]).toEqual(["failed", "attachment a.txt does not match its size and digest"]);
    const none = await (await runner()).run(job("true", { "a.txt": data }));
    expect(none.stderr).toBe("attachments need the control-plane, and this node has none");
    const attached = { ...job("true", { "a.txt": data }), sandbox: { command: ["true"], image: "localhost/x" } };
    const noShell = await (await runner(wrong.files)).run(attached);
    expect(noShell.stderr).toBe("attachments need a shell: run the job in the default image or as sh -c");
    const unsafe = job("true", { "a.txt": data });
    unsafe.attachments![0]!.name = "../x";
    const refused = await (await runner(wrong.files)).run(unsafe);
    expect(refused.stderr).toBe('attachment name is not a safe file name: "../x"');
  });
});

describe("collectArtifacts", () => {
  const stream = (text: string) => new Response(text).body!;
  const store = async (name: string, data: Uint8Array) => ({
    name,
    size_bytes: data.length,
    sha256: sha(data),
    content_type: "",
  });
  it("reports a malformed or cut stream, keeping what came before", async () => {
    expect(await collectArtifacts(stream("F 1 1\nax"), { capBytes: 10, store })).toEqual({
      artifacts: [{ name: "a", size_bytes: 1, sha256: sha("x"), content_type: "" }],
      omitted: [{ name: "", reason: "the artifact stream ended early" }],
    });
    expect((await collectArtifacts(stream("junk\n"), { capBytes: 10, store })).omitted).toEqual([
      { name: "", reason: "malformed artifact stream" },
    ]);
    expect((await collectArtifacts(stream("x".repeat(100)), { capBytes: 10, store })).omitted).toEqual([
      { name: "", reason: "malformed artifact stream" },
    ]);
    const lying = await collectArtifacts(stream("F 20 1\na01234567890123456789E\n"), { capBytes: 10, store });
    expect(lying.omitted).toEqual([{ name: "a", size_bytes: 20, reason: "past the artifact cap of 10 bytes" }]);
  });
});
