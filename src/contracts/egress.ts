/**
 * Restricted egress on the wire (decision 28): the hosts a job may reach (`sandbox.egress` of RunJobRequest, from a
 * task's `allowed_hosts` within the orchestrator's EGRESS_ALLOWED_HOSTS) and the record of every connection its
 * sandbox tried (`egress` of RunJobResponse).
 */
import * as v from "valibot";
import { parseHostEntry } from "../lib/egress-hosts";
import { LIMITS, List, Text } from "./storable";

/** How many hosts one task or job may list. */
export const MAX_ALLOWED_HOSTS = 64;
/** Where a restricted sandbox's proxy listens (its pod's loopback). */
export const EGRESS_PROXY_ADDRESS = "127.0.0.1:3128";
/** The failure code of an agent task that needed a host it was refused (reference-agents 1.6). */
export const EXT_NET_REQUIRED = "ext_net_required";
/** The detail of the proxy's 403: the SBA contract's marker, then the destination and why. */
export const egressRefusal = (destination: string, why: string) =>
  `${EXT_NET_REQUIRED}: ${destination} blocked (${why})`;

export const AllowedHost = v.pipe(
  Text(LIMITS.name),
  v.check((s) => parseHostEntry(s) !== undefined, "allowed_hosts: each entry is host[:port], *.domain[:port] or an IP"),
);

export const AllowedHosts = List(AllowedHost, MAX_ALLOWED_HOSTS);

/** `sandbox.egress`: only with `network_policy: "restricted"`; absent or empty, every connection is refused. */
export const SandboxEgress = v.object({ allowed_hosts: AllowedHosts });

export const EGRESS_DECISIONS = ["allowed", "refused"] as const;

/** One connection the sandbox asked its proxy for: a CONNECT tunnel or one plain HTTP request. */
export const EgressAttempt = v.object({
  host: v.string(),
  port: v.number(),
  kind: v.picklist(["connect", "http"]),
  decision: v.picklist(EGRESS_DECISIONS),
  /** Why it was refused, or why an allowed one failed (no address, connection refused). */
  reason: v.optional(v.string()),
  /** The address the node connected to. */
  address: v.optional(v.string()),
  /** From the sandbox to the destination, and back. */
  bytes_sent: v.number(),
  bytes_received: v.number(),
  duration_ms: v.number(),
});

/** At most this many attempts are kept per job; the rest are counted in the node's log only. */
export const MAX_EGRESS_RECORDS = 1000;

export type SandboxEgress = v.InferOutput<typeof SandboxEgress>;
export type EgressAttempt = v.InferOutput<typeof EgressAttempt>;
