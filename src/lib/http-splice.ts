/**
 * HTTP/1.1 proxying at the socket level, one exchange per client connection (answered with `Connection: close`).
 * Only the two heads are parsed and rewritten (hop-by-hop and credential headers dropped, see http-forward-headers.ts);
 * the bodies are copied between the sockets as the kernel hands them over, framing included: no per-chunk
 * streams, parsing or re-framing, so a streamed reply reaches the client at wire speed and each token as soon as
 * the upstream writes it. Backpressure pauses the sending side. No idle timer once a request is forwarded: a model may
 * pause for minutes; but a request head must be complete within REQUEST_HEAD_TIMEOUT_MS. An `admit` hook may refuse
 * a request, answer it itself, change its target, or take its whole body (Content-Length framed) and rewrite it.
 */
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { PROBLEM_CONTENT_TYPE, problemBody, type ProblemStatus } from "../contracts/problem";
import type { Logger } from "../lib/log";
import { clientResponseHeaders, upstreamRequestHeaders } from "./http-forward-headers";
import type { Upstream } from "./http-upstream";

export type Answer = { status: number; type: string; body: string };

/** What to do with a request whose head is complete (see `admit`). */
export type Admission =
  | { answer: Answer | Promise<Answer> }
  | { target: string; rewriteBody?: (body: Uint8Array) => Uint8Array | Answer };

/** A cap on the connections open at once, shared by the listeners of one proxy. */
export type ConnectionSlots = { take(): (() => void) | undefined; readonly limit: number };

export function createConnectionSlots(limit: number): ConnectionSlots {
  let open = 0;
  return {
    limit,
    take() {
      if (open >= limit) return undefined;
      open++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
      };
    },
  };
}

/** A connection whose request head is not complete this long after it opened is closed (slow-head clients). */
export const REQUEST_HEAD_TIMEOUT_MS = 10_000;

export type SpliceOptions = {
  upstream: Upstream;
  log: Logger;
  /** Request bodies past this many bytes (declared, or counted on the wire when chunked) get a 413. */
  maxBodyBytes?: number;
  /** Deadline of the whole exchange: 504 before the response head, the connection cut after it. */
  timeoutMs?: number;
  /** Answers a request itself (e.g. `/healthz`) instead of forwarding it. */
  local?: (method: string, path: string) => Answer | undefined;
  /** Decides on every other request; without it, each is forwarded as it came. */
  admit?: (method: string, target: string, headers: Headers) => Admission;
  /** Connections beyond this cap are answered 503 at once. */
  slots?: ConnectionSlots;
  /** The body of an error this proxy answers (502, 504, 413, 400); problem+json by default. */
  errorAnswer?: (status: ProblemStatus, detail: string) => Answer;
  /** Prefix of this proxy's log messages. */
  logPrefix?: string;
  /** One `request` line per exchange (default true). */
  accessLog?: boolean;
  /** Counts forwarded requests and the body bytes passed each way (the node's inference metrics). */
  counters?: {
    inferenceRequest(): void;
    inferenceBytes(direction: "request" | "response", n: number): void;
  };
};

export type SpliceListen = { hostname: string; port: number } | { unix: string };
export type SpliceServer = { hostname?: string; port?: number; stop(): void };

const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  413: "Payload Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export const problemAnswer = (status: ProblemStatus, detail: string): Answer => ({
  status,
  type: PROBLEM_CONTENT_TYPE,
  body: JSON.stringify(problemBody(status, detail)),
});

/** Writes to a socket, holding what it cannot take yet and pausing `source` until it drains. */
class Outbox {
  private queue: Uint8Array[] = [];
  private ending = false;
  constructor(
    private readonly socket: Socket<unknown>,
    private readonly source: () => Socket<unknown> | undefined,
  ) {}
  write(data: Uint8Array): void {
    if (this.queue.length) {
      this.queue.push(new Uint8Array(data));
      return;
    }
    const n = this.socket.write(data);
    if (n >= 0 && n < data.byteLength) {
      this.queue.push(new Uint8Array(data.subarray(n)));
      this.source()?.pause();
    }
  }
  drain(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const n = this.socket.write(head);
      if (n < 0) {
        this.queue = [];
        return;
      }
      if (n < head.byteLength) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
    this.source()?.resume();
    if (this.ending) this.socket.end();
  }
  /** Ends the socket once everything queued is written. */
  end(): void {
    if (this.queue.length) this.ending = true;
    else this.socket.end();
  }
}

type Head = { start: string[]; headers: Headers };

/** The start line's fields and the headers of an HTTP/1.x head, or undefined when malformed. */
export function parseHead(text: string): Head | undefined {
  const [first = "", ...lines] = text.split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return undefined;
    }
  }
  return { start: first.split(" "), headers };
}

const isChunked = (h: Headers) => /(^|,)\s*chunked\s*$/i.test(h.get("transfer-encoding") ?? "");

function serializeHead(startLine: string, headers: Headers): Uint8Array {
  let text = `${startLine}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return Buffer.from(`${text}\r\n`);
}

/** The request head sent upstream: filtered, framing kept, one exchange per connection. */
function upstreamHead(method: string, target: string, incoming: Headers, up: Upstream): Uint8Array {
  const out = upstreamRequestHeaders(incoming);
  out.delete("expect"); // no 1xx interim answers to relay
  if (isChunked(incoming)) {
    out.set("transfer-encoding", "chunked");
    out.delete("content-length");
  }
  out.set("host", new URL(up.origin).host);
  out.set("connection", "close");
  return serializeHead(`${method} ${up.basePath}${target} HTTP/1.1`, out);
}

/** The response head sent to the client: filtered, framing kept, the connection closed after it. */
function clientHead(statusLine: string, incoming: Headers): Uint8Array {
  const out = clientResponseHeaders(incoming);
  if (isChunked(incoming)) out.set("transfer-encoding", "chunked");
  out.set("connection", "close");
  return serializeHead(statusLine, out);
}

/** An answer as the bytes of a whole HTTP/1.1 response (the connection closed after it). */
export function answerBytes({ status, type, body }: Answer): Uint8Array {
  const bytes = Buffer.from(body);
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? "OK"}\r\ncontent-type: ${type}\r\ncontent-length: ${bytes.byteLength}\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

type ClientSocket = Socket<Exchange>;

export function serveSplice(listen: SpliceListen, opts: SpliceOptions): SpliceServer {
  const handlers = {
    open(socket: ClientSocket) {
      // Tokens go out as they come: no Nagle delay on small writes (a no-op on Unix sockets).
      socket.setNoDelay(true);
      socket.data = new Exchange(socket, opts);
    },
    data: (socket: ClientSocket, data: Buffer) => socket.data.fromClient(data),
    drain: (socket: ClientSocket) => socket.data.toClient.drain(),
    close: (socket: ClientSocket) => socket.data?.clientGone(),
    error: (socket: ClientSocket) => socket.data?.clientGone(),
  };
  const server: TCPSocketListener<Exchange> | UnixSocketListener<Exchange> =
    "unix" in listen
      ? Bun.listen<Exchange>({ unix: listen.unix, socket: handlers })
      : Bun.listen<Exchange>({ hostname: listen.hostname, port: listen.port, socket: handlers });
  return {
    hostname: "hostname" in server ? server.hostname : undefined,
    port: "port" in server ? server.port : undefined,
    stop: () => server.stop(true),
  };
}

/** One client connection: its request head, the upstream connection, and the bytes between them. */
class Exchange {
  readonly toClient: Outbox;
  private toUpstream?: Outbox;
  private upstream?: Socket<unknown>;
  private head: Buffer = Buffer.alloc(0);
  private state: "head" | "buffering" | "answering" | "forwarding" | "answered" | "done" = "head";
  /** What the upstream is sent once connected: the rewritten head, then body bytes that came before the connection. */
  private early: Uint8Array[] = [];
  private connecting = false;
  /** Which upstream connection attempt is current. */
  private attempt = 0;
  private connectFailure?: Error;
  private bodyBytes = 0;
  private responseHead?: Buffer = Buffer.alloc(0);
  private method = "";
  private path = "";
  private status = 0;
  private started = performance.now();
  private timer?: Timer;
  private headTimer?: Timer;
  private release?: () => void;
  /** A body taken whole before it is forwarded (see `Admission.rewriteBody`). */
  private held?: {
    method: string;
    target: string;
    headers: Headers;
    length: number;
    chunks: Buffer[];
    rewrite: (body: Uint8Array) => Uint8Array | Answer;
  };
  private heldBytes = 0;
  /** Bytes of request body the head announced: anything a client sends after them is dropped, never forwarded. */
  private bodyLimit = 0;

  constructor(
    private readonly client: ClientSocket,
    private readonly opts: SpliceOptions,
  ) {
    this.toClient = new Outbox(client as Socket<unknown>, () => this.upstream);
    if (opts.slots) {
      this.release = opts.slots.take();
      if (!this.release) {
        this.finish(problemAnswer(503, `too many connections to this proxy (limit ${opts.slots.limit})`));
        return;
      }
    }
    this.headTimer = setTimeout(() => {
      if (this.state === "head") this.close();
    }, REQUEST_HEAD_TIMEOUT_MS);
  }

  fromClient(data: Buffer): void {
    if (this.state === "forwarding") {
      this.forwardBody(data);
      return;
    }
    if (this.state === "buffering") {
      this.holdBody(data);
      return;
    }
    if (this.state !== "head") return;
    // Connect while the head is still being read: the connection is ready when the head is (dropped if unused).
    if (!this.connecting) this.connect();
    this.head = Buffer.concat([this.head, data]);
    const end = this.head.indexOf(HEAD_END);
    if (end < 0) {
      if (this.head.byteLength > MAX_HEAD_BYTES) this.answer(400, "request head too large");
      return;
    }
    const rest = this.head.subarray(end + HEAD_END.byteLength);
    clearTimeout(this.headTimer);
    this.startRequest(this.head.subarray(0, end).toString("latin1"));
    // startRequest moved the state on: only a forwarded or held request has a body to pass.
    if (rest.byteLength && (this.state as string) === "forwarding") this.forwardBody(rest);
    if ((this.state as string) === "buffering") this.holdBody(rest);
  }

  private startRequest(text: string): void {
    const parsed = parseHead(text);
    const [method = "", target = "", version = ""] = parsed?.start ?? [];
    if (!parsed || !/^[A-Z]+$/.test(method) || !target.startsWith("/") || !/^HTTP\/1\.[01]$/.test(version)) {
      this.answer(400, "malformed request");
      return;
    }
    this.method = method;
    this.path = target.split("?")[0]!;
    const length = parsed.headers.get("content-length");
    if (length !== null && !/^\d+$/.test(length)) {
      this.answer(400, "malformed Content-Length");
      return;
    }
    const local = this.opts.local?.(method, this.path);
    if (local) {
      this.finish(local);
      return;
    }
    const max = this.opts.maxBodyBytes;
    if (max !== undefined && Number(parsed.headers.get("content-length") ?? 0) > max) {
      this.tooLarge();
      return;
    }
    const admission = this.opts.admit?.(method, target, parsed.headers) ?? { target };
    if ("answer" in admission) {
      this.answerWith(admission.answer);
      return;
    }
    if (admission.rewriteBody) {
      this.holdRequest(method, admission.target, parsed.headers, admission.rewriteBody);
      return;
    }
    this.forward(method, admission.target, parsed.headers);
  }

  /** Gives up the upstream connection opened while the head was read. */
  private dropUpstream(): void {
    this.attempt++;
    this.upstream?.terminate();
    this.upstream = undefined;
    this.toUpstream = undefined;
    this.connecting = false;
    this.connectFailure = undefined;
  }

  private forward(method: string, target: string, headers: Headers, body?: Uint8Array): void {
    if (!this.connecting) this.connect();
    this.state = "forwarding";
    this.opts.counters?.inferenceRequest();
    if (this.opts.timeoutMs) this.timer ??= setTimeout(() => this.deadline(), this.opts.timeoutMs);
    this.early.push(upstreamHead(method, target, headers, this.opts.upstream));
    this.bodyLimit = isChunked(headers) ? Number.POSITIVE_INFINITY : Number(headers.get("content-length") ?? 0);
    if (body) {
      this.bodyBytes = body.byteLength;
      this.opts.counters?.inferenceBytes("request", body.byteLength);
      this.early.push(body);
    }
    if (this.connectFailure) {
      this.unreachable(this.connectFailure);
      return;
    }
    if (this.toUpstream) this.flushEarly();
  }

  /** An answer of the proxy's own, possibly computed (e.g. a filtered model list); the upstream socket is not used. */
  private answerWith(answer: Answer | Promise<Answer>): void {
    this.state = "answering";
    Promise.resolve(answer).then(
      (a) => {
        if (this.state === "answering") this.finish(a);
      },
      (err: Error) => {
        if (this.state !== "answering") return;
        this.opts.log.warn(`${this.opts.logPrefix ?? ""}answer failed`, { path: this.path, error: err.message });
        this.finish((this.opts.errorAnswer ?? problemAnswer)(502, "inference upstream unreachable"));
      },
    );
  }

  /** Takes the whole body (Content-Length framed only, so nothing is left to interpret) under the request deadline. */
  private holdRequest(
    method: string,
    target: string,
    headers: Headers,
    rewrite: (body: Uint8Array) => Uint8Array | Answer,
  ): void {
    const declared = headers.get("content-length");
    if (headers.has("transfer-encoding") || declared === null || !/^\d+$/.test(declared)) {
      this.finish(problemAnswer(400, "a request body here needs a Content-Length (no chunked encoding)"));
      return;
    }
    this.state = "buffering";
    this.held = { method, target, headers, length: Number(declared), chunks: [], rewrite };
    // Reading the body may take a while: the upstream is connected to once it is whole, not kept waiting idle.
    this.dropUpstream();
    // A client waiting for leave to send its body (curl does past 1 KiB) gets it now, not after its own timeout.
    if (/^100-continue$/i.test(headers.get("expect") ?? ""))
      this.toClient.write(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n"));
    if (this.opts.timeoutMs) this.timer = setTimeout(() => this.deadline(), this.opts.timeoutMs);
    this.holdBody(Buffer.alloc(0));
  }

  private holdBody(data: Buffer): void {
    const held = this.held!;
    held.chunks.push(Buffer.from(data)); // a copy: the socket's buffer is not ours to keep
    this.heldBytes += data.byteLength;
    if (this.heldBytes < held.length) return;
    const body = Buffer.concat(held.chunks).subarray(0, held.length);
    const out = held.rewrite(body);
    if (!(out instanceof Uint8Array)) {
      this.finish(out);
      return;
    }
    const headers = new Headers(held.headers);
    headers.set("content-length", String(out.byteLength));
    this.forward(held.method, held.target, headers, out);
  }

  private flushEarly(): void {
    for (const chunk of this.early.splice(0)) this.toUpstream!.write(chunk);
  }

  private connect(): void {
    this.connecting = true;
    const { origin, unix } = this.opts.upstream;
    const url = new URL(origin);
    // Events of a connection given up (see dropUpstream) are ignored.
    const attempt = ++this.attempt;
    const live = (s?: Socket<unknown>) => {
      if (attempt === this.attempt) return true;
      s?.terminate();
      return false;
    };
    const handlers = {
      open: (s: Socket<unknown>) => {
        if (!live(s)) return;
        s.setNoDelay(true);
        this.upstream = s;
        if (this.state !== "head" && this.state !== "forwarding") {
          s.terminate();
          return;
        }
        this.toUpstream = new Outbox(s, () => this.client as Socket<unknown>);
        this.flushEarly();
      },
      data: (s: Socket<unknown>, data: Buffer) => {
        if (live(s)) this.fromUpstream(data);
      },
      drain: (s: Socket<unknown>) => {
        if (live(s)) this.toUpstream?.drain();
      },
      close: () => {
        if (live()) this.upstreamGone();
      },
      error: (s: Socket<unknown>, err: Error) => {
        if (live(s)) this.upstreamFailed(err);
      },
      connectError: (_s: Socket<unknown>, err: Error) => {
        if (live()) this.upstreamFailed(err);
      },
    };
    const connecting = unix
      ? Bun.connect({ unix, socket: handlers })
      : Bun.connect({
          hostname: url.hostname,
          port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
          tls: url.protocol === "https:",
          socket: handlers,
        });
    connecting.catch(() => {}); // connectError answers it
  }

  private forwardBody(whole: Buffer): void {
    const data = whole.subarray(0, Math.max(0, this.bodyLimit - this.bodyBytes));
    if (!data.byteLength) return;
    this.bodyBytes += data.byteLength;
    this.opts.counters?.inferenceBytes("request", data.byteLength);
    const max = this.opts.maxBodyBytes;
    if (max !== undefined && this.bodyBytes > max) {
      this.tooLarge();
      return;
    }
    if (this.toUpstream) this.toUpstream.write(data);
    else this.early.push(new Uint8Array(data));
  }

  private fromUpstream(data: Buffer): void {
    if (this.state !== "forwarding") return;
    this.opts.counters?.inferenceBytes("response", data.byteLength);
    if (!this.responseHead) {
      this.toClient.write(data);
      return;
    }
    const buffered = Buffer.concat([this.responseHead, data]);
    const end = buffered.indexOf(HEAD_END);
    if (end < 0) {
      this.responseHead = buffered;
      if (buffered.byteLength > MAX_HEAD_BYTES) this.unreachable(new Error("response head too large"));
      return;
    }
    this.responseHead = undefined;
    const parsed = parseHead(buffered.subarray(0, end).toString("latin1"));
    const status = Number(parsed?.start[1]);
    if (!parsed || !/^HTTP\/1\.[01]$/.test(parsed.start[0] ?? "") || !(status >= 200 && status < 600)) {
      this.unreachable(new Error("malformed response head"));
      return;
    }
    this.status = status;
    this.logRequest(); // as an access log does: when the answer starts, the stream may go on for minutes
    this.toClient.write(clientHead(parsed.start.join(" "), parsed.headers));
    const rest = buffered.subarray(end + HEAD_END.byteLength);
    if (rest.byteLength) this.toClient.write(rest);
  }

  /** Before the head is parsed the failure waits for it: a local answer or a 413 does not need the upstream. */
  private upstreamFailed(err: Error): void {
    if (this.state === "head") this.connectFailure ??= err;
    else this.unreachable(err);
  }

  private upstreamGone(): void {
    if (this.state === "head") this.connectFailure ??= new Error("upstream closed before the request");
    if (this.state !== "forwarding") return;
    if (this.responseHead) {
      this.unreachable(new Error("upstream closed before answering"));
      return;
    }
    this.state = "done";
    clearTimeout(this.timer);
    this.toClient.end();
    this.logRequest();
  }

  private unreachable(err: Error): void {
    if (this.state !== "forwarding") return;
    this.opts.log.warn(`${this.opts.logPrefix ?? ""}upstream request failed`, {
      method: this.method,
      path: this.path,
      error: err.message,
    });
    this.answer(502, "inference upstream unreachable");
  }

  private tooLarge(): void {
    this.answer(413, `request body too large (limit ${this.opts.maxBodyBytes} bytes)`);
  }

  private deadline(): void {
    if (this.state === "buffering") {
      this.close();
      return;
    }
    if (this.state !== "forwarding") return;
    const seconds = (this.opts.timeoutMs ?? 0) / 1000;
    if (this.responseHead) {
      this.answer(504, `inference upstream did not answer within ${seconds} s`);
      return;
    }
    this.opts.log.warn(`${this.opts.logPrefix ?? ""}upstream response cut`, { path: this.path, reason: "deadline" });
    this.close();
  }

  /** Answers an error of this proxy's own, unless the upstream's answer has begun (then the connection is cut). */
  private answer(status: ProblemStatus, detail: string): void {
    if (!this.responseHead) {
      this.close();
      return;
    }
    this.finish((this.opts.errorAnswer ?? problemAnswer)(status, detail));
  }

  private finish(answer: Answer): void {
    this.state = "answered";
    this.status = answer.status;
    clearTimeout(this.timer);
    clearTimeout(this.headTimer);
    this.upstream?.terminate();
    this.toClient.write(answerBytes(answer));
    this.toClient.end();
    this.logRequest();
  }

  private close(): void {
    this.state = "done";
    clearTimeout(this.timer);
    clearTimeout(this.headTimer);
    this.release?.();
    this.upstream?.terminate();
    this.client.terminate();
    this.logRequest();
  }

  /** The client hung up: stop the upstream request too (a model stops generating). */
  clientGone(): void {
    clearTimeout(this.headTimer);
    this.release?.();
    if (this.state === "done") return;
    if (this.state === "forwarding") this.logRequest();
    this.state = "done";
    clearTimeout(this.timer);
    this.upstream?.terminate();
  }

  private logged = false;
  private logRequest(): void {
    if (this.logged || !this.method || this.opts.accessLog === false) return;
    this.logged = true;
    this.opts.log.info("request", {
      method: this.method,
      path: this.path,
      status: this.status,
      duration_ms: Math.round((performance.now() - this.started) * 10) / 10,
    });
  }
}
