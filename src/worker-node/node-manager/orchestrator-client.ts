/**
 * The node's client for the control-plane (contracts 1.2, 2): register with the PSK, then use the node JWT and the
 * endpoints from the bootstrap payload. A 401 on config or report means the JWT expired (or an admin reset the node):
 * re-register once, retry.
 */
import * as v from "valibot";
import type {
  NodeBootstrapPayload,
  NodeCapabilityReport,
  NodeConfigAck,
  NodeConfigurationPayload,
  NodeIdentity,
} from "../../contracts/node-payloads";
import type { AnyRoute } from "../../contracts/route";
import { CONTROL_PLANE_API as API } from "../../contracts/routes";
import type { Logger } from "../../lib/log";
import { TaskFileView } from "../../contracts/task-files";
import type { JobFiles } from "../sandbox/job-files";
import { jobStepReports } from "./job-progress-reporter";

export class OrchestratorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ClientOptions = {
  baseUrl: string;
  psk: string;
  requestTimeoutMs: number;
  log: Logger;
  fetch?: typeof fetch;
  /** Sent with every registration: the Worker API certificate request (worker-api-certificate.ts). */
  workerApiCsr?: string;
  /** The node's identity (node-identity.ts): every registration carries a fresh proof made with it. */
  identity?: (report: NodeCapabilityReport) => Promise<NodeIdentity>;
};

export type OrchestratorClient = ReturnType<typeof createOrchestratorClient>;

/** Throws the control-plane's answer as an OrchestratorError naming `what`. */
async function fail(what: string, res: Response): Promise<never> {
  const text = await res.text().catch(() => "");
  let detail = text.slice(0, 500);
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
  } catch {}
  throw new OrchestratorError(res.status, `${what}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`);
}
type RawCall = (method: AnyRoute["method"], path: string, body?: Uint8Array, type?: string) => Promise<Response>;

const rawFetch = (
  doFetch: typeof fetch,
  timeoutMs: number,
  bootstrap: NodeBootstrapPayload,
  r: { method: string; path: string; body?: Uint8Array; type?: string },
) =>
  doFetch(new URL(r.path, bootstrap.orchestrator.endpoints.node_config_url), {
    method: r.method,
    headers: { authorization: `Bearer ${bootstrap.auth.node_jwt}`, ...(r.type ? { "content-type": r.type } : {}) },
    body: r.body,
    signal: AbortSignal.timeout(timeoutMs),
  });

function jobFilesOver(raw: RawCall): JobFiles {
  return {
    async fetchAttachment(jobId, name) {
      const res = await raw("GET", API.jobAttachment.path({ job_id: jobId, name }));
      if (res.status !== 200) return fail(`attachment ${name}`, res);
      return new Uint8Array(await res.arrayBuffer());
    },
    async storeArtifact(jobId, name, data, type) {
      const res = await raw(API.jobArtifact.method, API.jobArtifact.path({ job_id: jobId, name }), data, type);
      if (res.status !== 201) return fail(`artifact ${name}`, res);
      return v.parse(TaskFileView, await res.json());
    },
  };
}

/** Agent jobs' step lines, posted to the orchestrator of the last registration with its token. */
const stepReportsOf = (bootstrap: () => NodeBootstrapPayload | undefined, doFetch: typeof fetch, log: Logger) =>
  jobStepReports({
    target: () => {
      const b = bootstrap();
      return b && { baseUrl: b.orchestrator.base_url, nodeJwt: b.auth.node_jwt };
    },
    fetch: doFetch,
    log,
  });

/** The JSON body of `res` as `schema`, or an OrchestratorError naming what was invalid and why. */
async function parsedBody<S extends v.GenericSchema>(
  schema: S,
  res: Response,
  invalid: string,
): Promise<v.InferOutput<S>> {
  const parsed = v.safeParse(schema, await res.json().catch(() => undefined));
  if (!parsed.success) throw new OrchestratorError(res.status, `${invalid} (${v.summarize(parsed.issues)})`);
  return parsed.output;
}

export function createOrchestratorClient({
  baseUrl,
  psk,
  requestTimeoutMs,
  log,
  fetch: doFetch = fetch,
  workerApiCsr,
  identity,
}: ClientOptions) {
  let bootstrap: NodeBootstrapPayload | undefined;
  let lastReport: NodeCapabilityReport | undefined;

  async function send(method: AnyRoute["method"], url: string, body: unknown, jwt?: string): Promise<Response> {
    try {
      return await doFetch(url, {
        method,
        headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      if (err instanceof OrchestratorError) throw err; // a refused CA pin: no retry mends it
      // Name the URL: the bootstrap's URLs come from the orchestrator's ORCHESTRATOR_PUBLIC_URL and may be wrong.
      throw new Error(`${method} ${url}: ${(err as Error).message}`, { cause: err });
    }
  }

  async function register(report: NodeCapabilityReport): Promise<NodeBootstrapPayload> {
    lastReport = report;
    const res = await send(API.register.method, baseUrl + API.register.path(), {
      psk,
      capability: report,
      ...(workerApiCsr ? { worker_api_csr: workerApiCsr } : {}),
      ...(identity ? { node_identity: await identity(report) } : {}),
    });
    if (res.status !== 200 && res.status !== 201) return fail("registration failed", res);
    bootstrap = await parsedBody(API.register.response, res, "registration failed: invalid bootstrap payload");
    return bootstrap;
  }

  /**
   * A node-JWT call of `route` at its URL from the bootstrap payload (the orchestrator names where it serves it);
   * re-registers once on 401.
   */
  async function authed(
    route: AnyRoute,
    endpoint: "node_config_url" | "node_report_url",
    body?: unknown,
  ): Promise<Response> {
    if (!bootstrap || !lastReport) throw new Error("not registered");
    let res = await send(route.method, bootstrap.orchestrator.endpoints[endpoint], body, bootstrap.auth.node_jwt);
    if (res.status === 401) {
      log.info("node token rejected; registering again");
      await register(lastReport);
      res = await send(route.method, bootstrap.orchestrator.endpoints[endpoint], body, bootstrap.auth.node_jwt);
    }
    return res;
  }

  /** A node-JWT call with a raw body on the control-plane that configures this node; re-registers once on 401. */
  const raw: RawCall = async (method, path, body, type) => {
    if (!bootstrap || !lastReport) throw new Error("not registered");
    const call = () => rawFetch(doFetch, requestTimeoutMs, bootstrap!, { method, path, body, type });
    const res = await call();
    return res.status === 401 ? register(lastReport).then(call) : res;
  };

  return {
    register,
    /** A job's attachments and artifacts (decision 23), for the sandbox runner. */
    files: jobFilesOver(raw),
    /** Agent jobs' step lines (decision 22), posted with this node's current token. */
    steps: stepReportsOf(() => bootstrap, doFetch, log),
    /** The Worker API certificate of the last registration, if the orchestrator issued one. */
    workerApiTls: () => bootstrap?.worker_api_tls,

    async fetchConfig(): Promise<NodeConfigurationPayload> {
      const res = await authed(API.config, "node_config_url");
      if (res.status !== 200) return fail("config fetch failed", res);
      return parsedBody(API.config.response, res, "config fetch failed: invalid node configuration");
    },

    async ack(ack: NodeConfigAck): Promise<void> {
      const res = await authed(API.configAck, "node_config_url", ack);
      if (res.status !== 204 && res.status !== 200) await fail("config ack failed", res);
    },

    async report(report: NodeCapabilityReport): Promise<void> {
      lastReport = report;
      const res = await authed(API.capability, "node_report_url", report);
      if (res.status !== 204 && res.status !== 200) await fail("capability report failed", res);
    },
  };
}
