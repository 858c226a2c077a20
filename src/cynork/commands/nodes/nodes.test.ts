import { beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { useCynorkFixture } from "../../../testing/cynork-fixture";
import { PASSWORD } from "../../../testing/gateway-fixture";
import { findNodeBySlug, registerNode } from "../../../orchestrator/db/nodes";

const f = useCynorkFixture({ handles: ["admin", "alice"] });
let asAdmin: string;
let asAlice: string;

const loginAs = async (handle: string) => {
  const config = join(f.dir, crypto.randomUUID(), "config.yaml");
  f.config = config;
  expect((await f.cynork(["auth", "login", "-u", handle, "--password-stdin"], { stdin: `${PASSWORD}\n` })).code).toBe(
    0,
  );
  return config;
};
const as = (config: string, argv: string[], opts: { stdin?: string; tty?: boolean } = {}) => {
  f.config = config;
  return f.cynork(argv, opts);
};
const bound = async (slug: string) => Boolean((await findNodeBySlug(f.t.db, slug))?.key_thumbprint);

beforeAll(async () => {
  asAdmin = await loginAs("admin");
  asAlice = await loginAs("alice");
  const now = new Date();
  for (const slug of ["cy-a", "cy-b"]) {
    const key = { jwk: { kty: "EC" }, thumbprint: `tp-${slug}`, proofId: crypto.randomUUID(), proofExpiresAt: now };
    await registerNode(f.t.db, {
      id: crypto.randomUUID(),
      slug,
      workerUrl: `http://${slug}:1`,
      sealedToken: "s",
      key,
      now,
    });
  }
});

describe("cynork nodes (admin)", () => {
  it("lists nodes one per line, and as the gateway's JSON with -o json; others get exit 3", async () => {
    const table = await as(asAdmin, ["nodes", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toStartWith(
      'node_slug=cy-a status=active live=false capacity={"max_concurrency":4,"running":0} models=[] last_seen_at=',
    );
    expect(table.stdout).toContain("key_bound=true worker_api_url=http://cy-a:1\n");
    const json = JSON.parse((await as(asAdmin, ["nodes", "list", "-o", "json"])).stdout);
    expect(json.nodes.map((n: { node_slug: string }) => n.node_slug)).toEqual(["cy-a", "cy-b"]);
    expect(await as(asAlice, ["nodes", "list"])).toMatchObject({
      code: 3,
      stderr: "Error: 403 Forbidden: Admin required\n",
    });
  });

  it("resets with -y, asks first on a terminal, and without one refuses before any request", async () => {
    const no = await as(asAdmin, ["nodes", "reset", "cy-a"], { stdin: "n\n", tty: true });
    expect(no).toMatchObject({ code: 0, stdout: "" });
    expect(no.stderr).toEndWith("[y/N] node cy-a not reset\n");
    for (const stdin of [undefined, "y\n"])
      expect(await as(asAdmin, ["nodes", "reset", "cy-a"], { stdin })).toMatchObject({
        code: 2,
        stdout: "",
        stderr: "Error: not resetting node cy-a without confirmation: pass -y (--yes)\n",
      });
    expect(await bound("cy-a")).toBe(true);

    const yes = await as(asAdmin, ["nodes", "reset", "cy-a"], { stdin: "y\n", tty: true });
    expect(yes.stdout).toStartWith("node_slug=cy-a status=inactive live=false");
    expect(yes.stdout).toContain("key_bound=false");
    expect(await bound("cy-a")).toBe(false);
    const json = JSON.parse((await as(asAdmin, ["nodes", "reset", "-y", "cy-b", "-o", "json"])).stdout);
    expect(json).toMatchObject({ node_slug: "cy-b", key_bound: false });
    expect(await as(asAdmin, ["nodes", "reset", "-y", "nope"])).toMatchObject({ code: 4 });
    expect((await as(asAdmin, ["nodes", "reset"])).code).toBe(2);
  });
});
