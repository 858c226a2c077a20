/**
 * Additions to registration (2.2, 2.3) for `--tls auto`: the node's certificate request for its Worker API, and the
 * certificate the cluster CA issued for it (the node's key never leaves the node).
 */
import * as v from "valibot";

const Pem = v.pipe(v.string(), v.maxLength(16_384), v.startsWith("-----BEGIN "));

/** PKCS#10 request (PEM) for the host of the node's Worker API URL. */
export const WorkerApiCsr = v.optional(Pem);

export const WorkerApiTls = v.optional(v.object({ cert_pem: Pem, ca_pem: Pem }));
export type WorkerApiTls = v.InferOutput<typeof WorkerApiTls>;
