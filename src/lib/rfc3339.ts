/** RFC 3339 UTC at second precision (`2026-02-16T12:00:00Z`), the wire format of every timestamp. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
