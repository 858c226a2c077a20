import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { parseHostList } from "../../lib/egress-hosts";
import { problemOf, startGatewayFixture, type GatewayFixture } from "../../testing/gateway-fixture";
import { EGRESS_OFF } from "./task-egress";

let f: GatewayFixture;
let off: GatewayFixture;
let token: string;
const policy = parseHostList("*.pypi.org, pypi.org, 127.0.0.2:8080").entries;
const jobDefaults = { sandboxImage: "localhost/cynode-sandbox:latest", inferenceModel: "test-model" };

beforeAll(async () => {
  f = await startGatewayFixture({ deps: { jobDefaults: { ...jobDefaults, egressPolicy: policy } } });
  off = await startGatewayFixture({ deps: { jobDefaults } });
  token = (await f.login("alice")).access_token;
});
afterAll(async () => {
  await f.close();
  await off.close();
});

const create = (g: GatewayFixture, body: Record<string, unknown>, t = token) =>
  g.call("POST", "/v1/tasks", { token: t, body });

describe("POST /v1/tasks with allowed_hosts", () => {
  it("queues a restricted job with the hosts asked for, normalized, when the operator's policy covers them", async () => {
    const res = await create(f, {
      prompt: "wget -q -O - http://127.0.0.2:8080/",
      input_mode: "script",
      allowed_hosts: ["files.PyPI.org", "pypi.org:443", "127.0.0.2:8080", "files.pypi.org"],
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const job = await f.t.db.selectFrom("jobs").selectAll().where("task_id", "=", id).executeTakeFirstOrThrow();
    expect(job.payload).toMatchObject({
      command: ["sh", "-c", "wget -q -O - http://127.0.0.2:8080/"],
      network_policy: "restricted",
      egress: { allowed_hosts: ["files.pypi.org", "pypi.org:443", "127.0.0.2:8080"] },
    });
  });

  it("makes an agent task's job restricted the same way, its spec allowing the network", async () => {
    const res = await create(f, { prompt: "fetch the index", use_sba: true, allowed_hosts: ["pypi.org"] });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const job = await f.t.db.selectFrom("jobs").selectAll().where("task_id", "=", id).executeTakeFirstOrThrow();
    const payload = job.payload as { job_spec_json: string };
    expect(payload).toMatchObject({ network_policy: "restricted", egress: { allowed_hosts: ["pypi.org"] } });
    expect(JSON.parse(payload.job_spec_json).constraints.ext_net_allowed).toBe(true);
  });

  it("refuses hosts outside the policy, naming them, and any host when the policy is empty", async () => {
    const outside = await create(f, {
      prompt: "x",
      allowed_hosts: ["pypi.org", "evil.test", "127.0.0.2", "pypi.org:22"],
    });
    expect(await problemOf(outside)).toMatchObject({
      status: 400,
      contentType: "application/problem+json",
      body: {
        detail: "allowed_hosts: not within the operator's EGRESS_ALLOWED_HOSTS: evil.test, 127.0.0.2, pypi.org:22",
      },
    });
    const offToken = (await off.login("alice")).access_token;
    expect(await problemOf(await create(off, { prompt: "x", allowed_hosts: ["pypi.org"] }, offToken))).toMatchObject({
      status: 400,
      body: { detail: EGRESS_OFF },
    });
  });

  it("refuses an entry that is no host with the schema's 400", async () => {
    const res = await create(f, { prompt: "x", allowed_hosts: ["http://pypi.org/"] });
    expect(res.status).toBe(400);
  });
});
