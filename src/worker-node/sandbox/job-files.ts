/**
 * A job's files on the node (decision 23). In: each attachment is fetched from the control-plane into the sandbox's
 * io directory (the host's own, read-only inside, written before the job is handed over), checked against its size
 * and digest, and the launcher copies it into /workspace (so it counts in the workspace's quota). Out: after the
 * job, the launcher (the sandbox's pid 1) kills what the job left running and writes every entry of /job/artifacts
 * into the `art` FIFO, framed, the regular files with their bytes while they fit in the cap; the host parses that
 * stream (never a path in the sandbox) and stores each file with its task as it arrives.
 */
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import {
  ARTIFACTS_DIR,
  contentTypeOf,
  type OmittedArtifact,
  safeFileName,
  type TaskFileView,
} from "../../contracts/task-files";
import type { RunJobRequest } from "../../contracts/worker-api";
import { IO_DIR, shellQuote } from "./launcher";
import type { ArtifactSink } from "./sandbox";

/** The control-plane's side of a job's files (the node's orchestrator client). */
export type JobFiles = {
  fetchAttachment(jobId: string, name: string): Promise<Uint8Array>;
  storeArtifact(jobId: string, name: string, data: Uint8Array, contentType: string): Promise<TaskFileView>;
};

/** The FIFO of the io directory the launcher writes the artifacts into. */
export const ARTIFACTS_FIFO = "art";
const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Fetches the job's attachments into `ioDir`; the launcher lines that copy them into /workspace. */
export async function placeAttachments(files: JobFiles | undefined, ioDir: string, job: RunJobRequest) {
  const wanted = job.attachments ?? [];
  if (wanted.length && !files) throw new Error("attachments need the control-plane, and this node has none");
  const lines: string[] = [];
  for (const [i, a] of wanted.entries()) {
    const name = safeFileName(a.name);
    if (!name) throw new Error(`attachment name is not a safe file name: ${JSON.stringify(a.name)}`);
    const data = await files!.fetchAttachment(job.job_id, name);
    if (data.length !== a.size_bytes || sha256(data) !== a.sha256)
      throw new Error(`attachment ${name} does not match its size and digest`);
    const file = join(ioDir, `attachment-${i}`);
    await Bun.write(file, data);
    await chmod(file, 0o644);
    lines.push(`cp ${IO_DIR}/attachment-${i} /workspace/${shellQuote(name)}`);
  }
  return lines;
}

/**
 * After the job: every process but pid 1 is killed (nothing changes the files any more), then each entry goes out
 * as `F <size> <name bytes>\n<name><data>` (a regular file within the cap), `S <size> …` (past the cap) or `N 0 …`
 * (not a regular file), and `E\n` ends the stream.
 */
export function artifactLines(capBytes: number): string[] {
  const d = ARTIFACTS_DIR;
  return [
    "kill -KILL -1 2>/dev/null",
    `exec 3>${IO_DIR}/${ARTIFACTS_FIFO}`,
    "t=0",
    `for f in ${d}/* ${d}/.[!.]* ${d}/..?*; do`,
    '  [ -e "$f" ] || [ -L "$f" ] || continue',
    `  n=\${f#${d}/}; l=$(printf '%s' "$n" | wc -c); l=$((l))`,
    '  if [ -f "$f" ] && [ ! -L "$f" ]; then',
    '    s=$(wc -c <"$f"); s=$((s))',
    `    if [ $((t + s)) -le ${capBytes} ]; then`,
    `      t=$((t + s)); printf 'F %s %s\\n%s' "$s" "$l" "$n" >&3; cat "$f" >&3`,
    `    else printf 'S %s %s\\n%s' "$s" "$l" "$n" >&3; fi`,
    `  else printf 'N 0 %s\\n%s' "$l" "$n" >&3; fi`,
    "done",
    "printf 'E\\n' >&3",
    "exec 3>&-",
  ];
}

export type ArtifactReport = { artifacts: TaskFileView[]; omitted: OmittedArtifact[] };

/** Reads lines and exact byte counts from a stream. */
function framed(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let buf = Buffer.alloc(0);
  const more = async () => {
    const r = await reader.read();
    if (r.done) throw new Error("the artifact stream ended early");
    buf = Buffer.concat([buf, r.value]);
  };
  return {
    async line(max = 64): Promise<string> {
      while (!buf.includes(10)) {
        if (buf.length > max) throw new Error("malformed artifact stream");
        await more();
      }
      const at = buf.indexOf(10);
      const text = buf.subarray(0, at).toString();
      buf = buf.subarray(at + 1);
      return text;
    },
    async bytes(n: number): Promise<Uint8Array> {
      const parts: Buffer[] = [];
      let need = n;
      while (need > 0) {
        if (!buf.length) await more();
        const part = buf.subarray(0, need);
        parts.push(part);
        need -= part.length;
        buf = buf.subarray(part.length);
      }
      return new Uint8Array(Buffer.concat(parts));
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

const HEADER = /^([FSN]) (\d{1,15}) (\d{1,4})$/;

/** Parses the launcher's artifact stream, storing each file within the cap as it arrives. */
export async function collectArtifacts(
  stream: ReadableStream<Uint8Array>,
  o: { capBytes: number; store: (name: string, data: Uint8Array) => Promise<TaskFileView> },
): Promise<ArtifactReport> {
  const report: ArtifactReport = { artifacts: [], omitted: [] };
  const r = framed(stream);
  let total = 0;
  try {
    for (let line = await r.line(); line !== "E"; line = await r.line()) {
      const m = HEADER.exec(line);
      if (!m) throw new Error("malformed artifact stream");
      const [, kind, size, nameLength] = m as unknown as [string, string, string, string];
      const raw = new TextDecoder().decode(await r.bytes(Number(nameLength)));
      const bytes = Number(size);
      if (kind === "N") report.omitted.push({ name: raw, reason: "not a regular file" });
      else if (kind === "S" || total + bytes > o.capBytes)
        report.omitted.push({ name: raw, size_bytes: bytes, reason: `past the artifact cap of ${o.capBytes} bytes` });
      if (kind !== "F") continue;
      const data = await r.bytes(bytes);
      const name = safeFileName(raw);
      if (!name) report.omitted.push({ name: raw, size_bytes: bytes, reason: "not a safe file name" });
      else if (total + bytes <= o.capBytes) {
        total += bytes;
        report.artifacts.push(await o.store(name, data));
      }
    }
  } catch (err) {
    report.omitted.push({ name: "", reason: (err as Error).message });
  } finally {
    await r.cancel();
  }
  return report;
}

/**
 * What a sandbox's launcher needs for a job's files (`JobToRun.before` and `.artifacts`, sandbox.ts): its
 * attachments placed, and the store of its artifacts when the node has a control-plane. Any job handed to a
 * launched sandbox (an agent task's too) gets its files this way.
 */
export async function jobFilesOf(
  ctx: { jobFiles?: JobFiles; artifactCapBytes: number },
  ioDir: string,
  job: RunJobRequest,
): Promise<{ before: string[]; artifacts?: ArtifactSink }> {
  const files = ctx.jobFiles;
  const before = await placeAttachments(files, ioDir, job);
  if (!files) return { before };
  const store = (name: string, data: Uint8Array) => files.storeArtifact(job.job_id, name, data, contentTypeOf(name));
  return { before, artifacts: { capBytes: ctx.artifactCapBytes, store } };
}
