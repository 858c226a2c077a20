import { describe, expect, it } from "bun:test";
import { defaultStateDir, loadConfig } from "./config";

describe("loadConfig", () => {
  it("applies the reference defaults", () => {
    const c = loadConfig({}, { stateDir: "/tmp/s" });
    expect(c).toMatchObject({
      CYNODE_STATE_DIR: "/tmp/s",
      USER_GATEWAY_LISTEN_ADDR: { hostname: "0.0.0.0", port: 12080 },
      CONTROL_PLANE_LISTEN_ADDR: { hostname: "0.0.0.0", port: 12082 },
      JWT_ACCESS_DURATION: 900_000,
      JWT_REFRESH_DURATION: 168 * 3_600_000,
      RATE_LIMIT_PER_MINUTE: 60,
      ORCHESTRATOR_PUBLIC_URL: "http://localhost:12082",
      DISPATCHER_ENABLED: true,
      MAX_REQUEST_BODY_MB: 10,
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it("reads env overrides, the generic LISTEN_ADDR, and lets the flag win over CYNODE_STATE_DIR", () => {
    const c = loadConfig(
      {
        LISTEN_ADDR: "127.0.0.1:9000",
        JWT_ACCESS_DURATION: "1h30m",
        DISPATCHER_ENABLED: "false",
        CYNODE_STATE_DIR: "/env",
        ORCHESTRATOR_PUBLIC_URL: "http://cp:12082/",
      },
      { stateDir: "/flag" },
    );
    expect(c).toMatchObject({
      USER_GATEWAY_LISTEN_ADDR: { hostname: "127.0.0.1", port: 9000 },
      JWT_ACCESS_DURATION: 5_400_000,
      DISPATCHER_ENABLED: false,
      CYNODE_STATE_DIR: "/flag",
      ORCHESTRATOR_PUBLIC_URL: "http://cp:12082",
    });
  });

  it("caps chats and tokens by default, and active tasks per user only when MAX_ACTIVE_TASKS_PER_USER is set", () => {
    const defaults = loadConfig({ MAX_ACTIVE_TASKS_PER_USER: " " }, { stateDir: "/s" });
    expect([
      defaults.CHAT_MAX_IN_FLIGHT_PER_USER,
      defaults.CHAT_MAX_TOKENS,
      defaults.MAX_ACTIVE_TASKS_PER_USER,
    ]).toEqual([4, 4096, undefined]);
    const set = loadConfig(
      { MAX_ACTIVE_TASKS_PER_USER: "25", CHAT_MAX_IN_FLIGHT_PER_USER: "2", CHAT_MAX_TOKENS: "512" },
      { stateDir: "/s" },
    );
    expect([set.CHAT_MAX_IN_FLIGHT_PER_USER, set.CHAT_MAX_TOKENS, set.MAX_ACTIVE_TASKS_PER_USER]).toEqual([2, 512, 25]);
    const load = (value: string) => () => loadConfig({ MAX_ACTIVE_TASKS_PER_USER: value }, { stateDir: "/s" });
    expect(load("lots")).toThrow("MAX_ACTIVE_TASKS_PER_USER: must be a whole number");
    expect(load("0")).toThrow("MAX_ACTIVE_TASKS_PER_USER: must be at least 1");
  });

  it("reads EGRESS_ALLOWED_HOSTS as host entries (none by default) and refuses what is none", () => {
    expect(loadConfig({}, { stateDir: "/s" }).EGRESS_ALLOWED_HOSTS).toEqual([]);
    expect(
      loadConfig({ EGRESS_ALLOWED_HOSTS: "pypi.org, *.pythonhosted.org:443" }, { stateDir: "/s" }).EGRESS_ALLOWED_HOSTS,
    ).toEqual([{ host: "pypi.org" }, { host: "*.pythonhosted.org", port: 443 }]);
    expect(() => loadConfig({ EGRESS_ALLOWED_HOSTS: "https://pypi.org/" }, { stateDir: "/s" })).toThrow(
      "EGRESS_ALLOWED_HOSTS: must be host[:port], *.domain[:port] or IP entries",
    );
  });

  it("lists every problem at once", () => {
    const load = () =>
      loadConfig(
        { JWT_ACCESS_DURATION: "soon", RATE_LIMIT_PER_MINUTE: "many", USER_GATEWAY_LISTEN_ADDR: "here" },
        { stateDir: "/s" },
      );
    expect(load).toThrow("JWT_ACCESS_DURATION: must be a duration");
    expect(load).toThrow("RATE_LIMIT_PER_MINUTE: must be a whole number");
    expect(load).toThrow("USER_GATEWAY_LISTEN_ADDR: must be [host]:port");
  });

  it("defaults the state dir to /var/lib for root and XDG_STATE_HOME otherwise", () => {
    expect(defaultStateDir({}, 0)).toBe("/var/lib/cynode/orchestrator");
    expect(defaultStateDir({ XDG_STATE_HOME: "/home/u/.st" }, 1000)).toBe("/home/u/.st/cynode/orchestrator");
  });
});
