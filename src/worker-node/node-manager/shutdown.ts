/**
 * Stopping a node, whether it runs or failed half-way through its start: each part is stopped if it was started,
 * in an order where nothing waits on what is already gone.
 */
export type NodeParts = {
  reports?: { stop(): void };
  /** Sandboxes first: stopping them ends the job requests the Worker API still holds. */
  services?: { stop(): Promise<void> };
  api?: { stop(): Promise<void> };
  /** Last: every other part logs to it. */
  telemetry?: { close(): void };
};

export async function stopNode(parts: NodeParts): Promise<void> {
  parts.reports?.stop();
  await parts.services?.stop();
  await parts.api?.stop();
  parts.telemetry?.close();
}
