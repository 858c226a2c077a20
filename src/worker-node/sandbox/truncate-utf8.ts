/**
 * Output capped by bytes without splitting a UTF-8 sequence, read from a stream that may be far larger than the cap,
 * up to its end or to an end mark the sandbox's launcher prints after the job.
 */

/** The largest cut ≤ max that does not split a UTF-8 sequence (backs off over continuation bytes). */
export function utf8Boundary(bytes: Uint8Array, max: number): number {
  if (bytes.length <= max) return bytes.length;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

export type CapturedText = { text: string; truncated: boolean };
/** `marked`: the end mark was seen; `trailer`: the rest of its line (the job's exit status on stderr). */
export type Captured = CapturedText & { marked: boolean; trailer: string };
/** `line`: also read what follows the mark up to its newline. */
export type EndMark = { mark: string; line?: boolean };

const MAX_TRAILER = 64;

/** Keeps the first `cap` bytes (one more, so the cut can be placed on a character boundary) and counts the rest. */
function boundedText(cap: number) {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let total = 0;
  return {
    add(chunk: Uint8Array) {
      total += chunk.length;
      const room = cap + 1 - keptBytes;
      if (room <= 0 || chunk.length === 0) return;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      kept.push(part);
      keptBytes += part.length;
    },
    result(): CapturedText {
      const bytes = Buffer.concat(kept);
      return { text: new TextDecoder().decode(bytes.subarray(0, utf8Boundary(bytes, cap))), truncated: total > cap };
    },
  };
}

async function restOfLine(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> },
  start: Uint8Array,
): Promise<string> {
  let line = Buffer.from(start);
  while (!line.includes(10) && line.length < MAX_TRAILER) {
    const { value, done } = await reader.read();
    if (done || !value) break;
    line = Buffer.concat([line, value]);
  }
  const end = line.indexOf(10);
  return line.subarray(0, end < 0 ? Math.min(line.length, MAX_TRAILER) : end).toString();
}

/** Reads a stream to its end or its end mark (the stream is cancelled there), keeping at most `cap` bytes. */
export async function captureText(stream: ReadableStream<Uint8Array>, cap: number, end?: EndMark): Promise<Captured> {
  const reader = stream.getReader();
  const text = boundedText(cap);
  const mark = end ? Buffer.from(end.mark) : undefined;
  // The tail of the last chunk that may be the start of a mark split across chunks.
  let carry = Buffer.alloc(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        text.add(carry);
        return { ...text.result(), marked: false, trailer: "" };
      }
      if (!mark) {
        text.add(value);
        continue;
      }
      const buf = carry.length ? Buffer.concat([carry, value]) : Buffer.from(value);
      const at = buf.indexOf(mark);
      if (at >= 0) {
        text.add(buf.subarray(0, at));
        const after = buf.subarray(at + mark.length);
        return { ...text.result(), marked: true, trailer: end?.line ? await restOfLine(reader, after) : "" };
      }
      const safe = Math.max(0, buf.length - (mark.length - 1));
      text.add(buf.subarray(0, safe));
      carry = buf.subarray(safe);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Bytes cut to at most `max` on a character boundary, as text. */
export function cutUtf8(bytes: Uint8Array, max: number): CapturedText {
  const end = utf8Boundary(bytes, max);
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), truncated: end < bytes.length };
}

/** Text cut to at most `max` UTF-8 bytes on a character boundary. */
export const truncateUtf8 = (text: string, max: number): CapturedText => cutUtf8(new TextEncoder().encode(text), max);
