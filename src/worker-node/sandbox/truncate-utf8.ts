/** Output capped by bytes without splitting a UTF-8 sequence, read from a stream that may be far larger than the cap. */

/** The largest cut ≤ max that does not split a UTF-8 sequence (backs off over continuation bytes). */
export function utf8Boundary(bytes: Uint8Array, max: number): number {
  if (bytes.length <= max) return bytes.length;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

export type CapturedText = { text: string; truncated: boolean };

/** Reads a stream to its end, keeping at most `cap` bytes in memory; the rest is drained and dropped. */
export async function captureText(stream: ReadableStream<Uint8Array>, cap: number): Promise<CapturedText> {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    // One byte past the cap tells utf8Boundary whether the cap falls inside a sequence.
    const room = cap + 1 - keptBytes;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      kept.push(part);
      keptBytes += part.length;
    }
  }
  const bytes = Buffer.concat(kept);
  const truncated = total > cap;
  const text = new TextDecoder().decode(bytes.subarray(0, utf8Boundary(bytes, cap)));
  return { text, truncated };
}
