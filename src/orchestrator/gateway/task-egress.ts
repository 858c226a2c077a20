/**
 * A task's `allowed_hosts` (decision 28) as its job's restricted egress: each entry must lie within the operator's
 * EGRESS_ALLOWED_HOSTS (an address only when the policy names it too), else the task is refused with 400 naming
 * them; the job then runs with `network_policy: "restricted"` and exactly those hosts.
 */
import type { SandboxSpec } from "../../contracts/worker-api";
import { entryCovers, formatHostEntry, parseHostEntry, type HostEntry } from "../../lib/egress-hosts";
import { ProblemError } from "../../lib/http-problem";

export const EGRESS_OFF =
  "allowed_hosts: restricted egress is off on this orchestrator (EGRESS_ALLOWED_HOSTS is empty)";

export function taskEgress(
  requested: readonly string[] | undefined,
  policy: readonly HostEntry[],
): Pick<SandboxSpec, "network_policy" | "egress"> {
  if (!requested?.length) return {};
  if (!policy.length) throw new ProblemError(400, EGRESS_OFF);
  // The request schema let only parseable entries through.
  const entries = requested.map((h) => parseHostEntry(h)!);
  const outside = entries.filter((e) => !policy.some((p) => entryCovers(p, e)));
  if (outside.length)
    throw new ProblemError(
      400,
      `allowed_hosts: not within the operator's EGRESS_ALLOWED_HOSTS: ${outside.map(formatHostEntry).join(", ")}`,
    );
  return { network_policy: "restricted", egress: { allowed_hosts: [...new Set(entries.map(formatHostEntry))] } };
}
