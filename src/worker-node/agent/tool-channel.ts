/**
 * The way an agent job's tool calls reach its sandbox, with no `podman exec` per call: the sandbox's first shell runs
 * a request loop (busybox sh) that reads one request line at a time from its `in` FIFO, runs the request's script
 * (a file the worker wrote into the io directory) as the sandbox's user, its output capped by `head -c` into a file
 * inside the sandbox, and answers on `out` with a length-prefixed frame: `<seq> <exit> <output bytes> <error
 * bytes>\n`, then the bytes. Lengths, not end marks: what a tool prints cannot pass for a frame's end.
 */
import { IO_DIR, shellQuote } from "../sandbox/launcher";
import type { SessionIo } from "../sandbox/sandbox";
import { cutUtf8 } from "../sandbox/truncate-utf8";

/** A frame header is short; anything longer means the channel is broken. */
const MAX_HEADER = 128;
/** A tool error (written by the worker's own scripts on fd 5) is a line or two; more means the channel is broken. */
const MAX_ERROR_BYTES = 64 * 1024;
const DEADLINE_GRACE_SECONDS = 1;

/**
 * The loop the sandbox's pid 1 runs: each request `<seq> <cap>` runs `$IO/r<seq>` in a subshell with no stdin and no
 * request descriptor, stdout+stderr into the capped output file, tool errors on fd 5. A watchdog kills every other
 * process at the deadline (pid 1 ignores signals from inside); EOF on `in` (the worker done or gone) ends the loop,
 * and the `after` lines run (the artifacts out).
 */
export function toolLoopLauncher(o: {
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Lines before the loop (the job's attachments placed, job-files.ts). */
  before?: string[];
  /** Lines once the loop has ended (the job's artifacts written out, job-files.ts `artifactLines`). */
  after?: string[];
}): string {
  const lines = Object.entries(o.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  lines.push(...(o.before ?? []));
  lines.push(
    `(sleep ${o.timeoutSeconds + DEADLINE_GRACE_SECONDS}; kill -KILL -1) >/dev/null 2>&1 </dev/null &`,
    `IO=${IO_DIR}`,
    "T=$(mktemp -d) || exit 1",
    'exec 3<"$IO/in"',
    // The worker ends with a line, never by closing `in`: it may close before this shell opens it (a fast final
    // answer), and a FIFO with no writer would hold that open for ever.
    'while read -r n cap <&3 && [ "$n" != end ]; do',
    '  : >"$T/e"',
    '  { ( . "$IO/r$n" ) </dev/null 3<&- 5>"$T/e" 2>&1; echo "$?" >"$T/rc"; } | { head -c "$cap" >"$T/o"; cat >/dev/null; }',
    '  read -r rc <"$T/rc"',
    '  printf \'%s %s %s %s\\n\' "$n" "$rc" $(wc -c <"$T/o") $(wc -c <"$T/e")',
    '  cat "$T/o" "$T/e"',
    "done",
    ...(o.after ?? []),
    "exit 0",
  );
  return `${lines.join("\n")}\n`;
}

export type ToolRequest = {
  /** The shell script run in the sandbox's request loop (sourced in a subshell: `exec` replaces it). */
  script: string;
  /** Files the script reads from `$IO` (e.g. content to write), named `<name><seq>`: never in argv. */
  files?: Record<string, string>;
  /** Output bytes kept; more marks it truncated. */
  cap: number;
};
export type ToolAnswer = { exitCode: number; output: string; truncated: boolean; error?: string };

/** Reads length-prefixed frames from a byte stream. */
export function frameReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let buf = new Uint8Array(0);
  const more = async () => {
    const r = await reader.read();
    if (r.done) throw new Error("the sandbox's tool loop ended");
    const next = new Uint8Array(buf.length + r.value.length);
    next.set(buf);
    next.set(r.value, buf.length);
    buf = next;
  };
  const take = (n: number) => {
    const out = buf.slice(0, n);
    buf = buf.subarray(n);
    return out;
  };
  return {
    async line(): Promise<string> {
      for (let nl = buf.indexOf(10); ; nl = buf.indexOf(10)) {
        if (nl >= 0) return new TextDecoder().decode(take(nl + 1)).slice(0, -1);
        if (buf.length > MAX_HEADER) throw new Error("the sandbox's tool loop sent a malformed frame");
        await more();
      }
    },
    async bytes(n: number): Promise<Uint8Array> {
      while (buf.length < n) await more();
      return take(n);
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

export type ToolChannel = {
  call(req: ToolRequest): Promise<ToolAnswer>;
  /** Ends the sandbox's loop (it exits by itself). */
  close(): void;
};

/** The worker's end of a served sandbox: one request at a time, answered in order. */
export function toolChannel(io: SessionIo): ToolChannel {
  const frames = frameReader(io.output);
  // The loop's own stderr (its errors, never a tool's) is drained so it cannot fill and stall the sandbox.
  void io.stderr.pipeTo(new WritableStream()).catch(() => {});
  let seq = 0;
  let queue: Promise<unknown> = Promise.resolve();
  async function exchange(req: ToolRequest): Promise<ToolAnswer> {
    const n = ++seq;
    const files = Object.entries(req.files ?? {}).map(([name, data]) => [`${name}${n}`, data] as const);
    await Promise.all([io.put(`r${n}`, req.script), ...files.map(([f, d]) => io.put(f, d))]);
    try {
      io.send(`${n} ${req.cap + 1}\n`);
      const header = (await frames.line()).split(" ");
      const [got, rc, olen, elen] = header.map(Number);
      if (header.length !== 4 || got !== n || !(olen! <= req.cap + 1) || !(elen! <= MAX_ERROR_BYTES))
        throw new Error("the sandbox's tool loop sent a malformed frame");
      const output = await frames.bytes(olen!);
      const error = new TextDecoder().decode(await frames.bytes(elen!)).trim();
      const { text, truncated } = cutUtf8(output, req.cap);
      return { exitCode: rc!, output: text, truncated, error: error || undefined };
    } finally {
      await Promise.all([io.drop(`r${n}`), ...files.map(([f]) => io.drop(f))]);
    }
  }
  let closed = false;
  return {
    call(req) {
      const p = queue.then(() => exchange(req));
      queue = p.catch(() => {});
      return p;
    },
    close() {
      if (closed) return;
      closed = true;
      io.end();
      void frames.cancel();
    },
  };
}
