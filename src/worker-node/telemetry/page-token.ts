/** The Worker Telemetry API's opaque page tokens: an offset into the query's rows. */

export const pageToken = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString("base64url");

/** An opaque page token back to its offset; anything we did not issue is a bad request (undefined). */
export function pageOffset(token: string | undefined): number | undefined {
  if (!token) return 0;
  try {
    const o = (JSON.parse(Buffer.from(token, "base64url").toString()) as { o?: unknown }).o;
    return typeof o === "number" && Number.isInteger(o) && o >= 0 ? o : undefined;
  } catch {
    return undefined;
  }
}
