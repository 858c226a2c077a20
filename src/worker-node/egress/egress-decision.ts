/**
 * The node's decision on one destination of a restricted job (decision 28): the host and port must match one of
 * the job's entries; then every address the name resolves to (or the address given) must be public, or be named
 * exactly, with the port, by an entry. The caller connects to the address returned, never resolving again.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { entryAllows, type HostEntry } from "../../lib/egress-hosts";
import { isPublicAddress } from "./address-ranges";

/** Every address a name resolves to. */
export type Resolve = (host: string) => Promise<string[]>;

export const resolveAll: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export type EgressDecision = { allowed: true; address: string } | { allowed: false; status: 403 | 502; reason: string };

const refused = (reason: string): EgressDecision => ({ allowed: false, status: 403, reason });

export async function decideEgress(
  entries: readonly HostEntry[],
  host: string,
  port: number,
  resolve: Resolve = resolveAll,
): Promise<EgressDecision> {
  if (!entries.some((e) => entryAllows(e, host, port))) return refused("not in the job's allowed hosts");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch (err) {
    return { allowed: false, status: 502, reason: `the name does not resolve: ${(err as Error).message}` };
  }
  if (addresses.length === 0) return { allowed: false, status: 502, reason: "the name has no address" };
  const unnamed = addresses.find(
    (a) => !isPublicAddress(a) && !entries.some((e) => e.host === a && entryAllows(e, a, port)),
  );
  if (unnamed) return refused(`${unnamed} is a private address that no entry names`);
  return { allowed: true, address: addresses[0]! };
}
