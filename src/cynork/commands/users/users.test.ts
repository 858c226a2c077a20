import { beforeEach, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { useCynorkFixture } from "../../../testing/cynork-fixture";
import { PASSWORD } from "../../../testing/gateway-fixture";

const f = useCynorkFixture();
let asAdmin: string;
beforeEach(() => {
  f.config = join(f.dir, crypto.randomUUID(), "config.yaml");
});
const loginAs = async (handle: string, password = PASSWORD) => {
  const config = join(f.dir, crypto.randomUUID(), "config.yaml");
  f.config = config;
  const r = await f.cynork(["auth", "login", "-u", handle, "--password-stdin"], { stdin: `${password}\n` });
  return { ...r, config };
};
const as = (config: string, argv: string[], stdin?: string) => {
  f.config = config;
  return f.cynork(argv, stdin === undefined ? {} : { stdin });
};

describe("cynork users (admin)", () => {
  it("creates a user who logs in and sees none of the admin's tasks; disable, enable and reset-password", async () => {
    asAdmin = (await loginAs("admin")).config;
    expect((await as(asAdmin, ["task", "create", "--command", "echo mine"])).code).toBe(0);
    const made = await as(asAdmin, ["users", "create", "frank", "--password-stdin", "-o", "json"], "frank-pw-1\n");
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ handle: "frank", is_active: true });
    expect((await as(asAdmin, ["users", "list"])).stdout).toContain("frank");

    const frank = await loginAs("frank", "frank-pw-1");
    expect(frank.code).toBe(0);
    expect(JSON.parse((await as(frank.config, ["task", "list", "-o", "json"])).stdout).tasks).toEqual([]);
    expect((await as(frank.config, ["users", "list"])).code).toBe(3); // 403 Admin required

    expect((await as(asAdmin, ["users", "disable", "frank"])).stdout).toContain("false");
    expect((await as(frank.config, ["auth", "whoami"])).code).toBe(3);
    expect((await as(asAdmin, ["users", "enable", "frank"])).stdout).toContain("true");
    const reset = await as(asAdmin, ["users", "reset-password", "frank", "--password-stdin"], "frank-pw-2\n");
    expect(reset.code).toBe(0);
    expect((await loginAs("frank", "frank-pw-1")).code).toBe(3);
    expect((await loginAs("frank", "frank-pw-2")).code).toBe(0);
  });

  it("refuses what it cannot do with one line and the right exit code", async () => {
    asAdmin = (await loginAs("admin")).config;
    expect(await as(asAdmin, ["users", "disable", "nobody"])).toMatchObject({
      code: 4,
      stderr: "Error: no user nobody\n",
    });
    expect((await as(asAdmin, ["users", "create"])).code).toBe(2);
    expect((await as(asAdmin, ["users", "create", "gina"])).code).toBe(2); // no terminal, no --password-stdin
    expect((await as(asAdmin, ["users", "create", "gina", "--password-stdin"], "\n")).code).toBe(2);
    expect((await as(asAdmin, ["users", "reset-password", "admin", "--password-stdin"], "\n")).code).toBe(2);
    expect((await as(asAdmin, ["users", "disable"])).code).toBe(2);
    f.config = asAdmin;
    const differ = await f.cynork(["users", "create", "gina"], { stdin: "one\rtwo\r", tty: true });
    expect(differ).toMatchObject({ code: 2 });
    expect(differ.stderr).toContain("the passwords differ");
  });
});
