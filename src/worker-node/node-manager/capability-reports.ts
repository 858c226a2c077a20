/**
 * Capability reports (contracts 3.1 steps 4 and 9, 2.1): the report of this moment (registration sends one too),
 * and after the ack one report at once, then one per `capability_report_interval_seconds`. A periodic report that
 * fails is logged; the next one tries again.
 */
import type { NodeCapabilityReport } from "../../contracts/node-payloads";
import type { InferenceService } from "../inference/service";
import { collectCapabilities, type RunCommand } from "./capabilities";
import type { Every, NodeContext } from "./node-context";

export type CapabilitySourceParts = {
  podmanVersion: string;
  workerApiUrl: string;
  inference: Pick<InferenceService, "capability">;
  run?: RunCommand;
};

/** Collects a report from the facts of the moment; the last one is kept in the state for `node:info`. */
export function capabilitySource(
  { config, state, now }: NodeContext,
  d: CapabilitySourceParts,
): () => Promise<NodeCapabilityReport> {
  return async () =>
    (state.lastReport = await collectCapabilities({
      config,
      podmanVersion: d.podmanVersion,
      workerApiUrl: d.workerApiUrl,
      now,
      run: d.run,
      inference: await d.inference.capability(),
    }));
}

export type CapabilityReportsParts = {
  client: { report(report: NodeCapabilityReport): Promise<void> };
  collect: () => Promise<NodeCapabilityReport>;
  every: Every;
};

export type CapabilityReports = { reportNow(): Promise<void>; stop(): void };

/** Sends the first report (its failure ends the start), then schedules the others. */
export async function startCapabilityReports(
  { config, log }: NodeContext,
  d: CapabilityReportsParts,
): Promise<CapabilityReports> {
  const reportNow = async () => d.client.report(await d.collect());
  await reportNow();
  const stop = d.every(config.orchestrator.capability_report_interval_seconds * 1000, () => {
    reportNow().catch((err: Error) => log.warn("capability report failed", { error: err.message }));
  });
  return { reportNow, stop };
}
