import { describe, expect, it } from "bun:test";
import { nodeConfigPayload as payload } from "../../testing/node-config";
import { loadNodeConfig } from "../config";
import { applyNodeConfig } from "./apply-config";

const local = await loadNodeConfig({
  env: { NODE_REGISTRATION_PSK: "p", NODE_SLUG: "n1" },
  defaultPath: "/nonexistent/node.yaml",
});
const now = new Date("2026-03-01T10:00:00Z");

describe("applyNodeConfig", () => {
  it("takes the bearer token and the stricter of local and orchestrator limits", () => {
    const applied = applyNodeConfig(
      local,
      payload({
        constraints: { max_request_bytes: 1024, max_job_timeout_seconds: 600 },
        policy: { sandbox: { allowed_images: ["a"] } },
      }),
      now,
    );
    expect(applied).toEqual({
      bearerToken: "tok",
      maxRequestBytes: 1024,
      maxJobTimeoutSeconds: 600,
      allowedImages: ["a"],
    });
    expect(applyNodeConfig(local, payload(), now).maxRequestBytes).toBe(10485760);
  });

  it("intersects allowed images when both sides restrict them", () => {
    const strict = { ...local, sandbox: { ...local.sandbox, allowed_images: ["a", "b"] } };
    expect(
      applyNodeConfig(strict, payload({ policy: { sandbox: { allowed_images: ["b", "c"] } } }), now).allowedImages,
    ).toEqual(["b"]);
    expect(applyNodeConfig(strict, payload(), now).allowedImages).toEqual(["a", "b"]);
  });

  it("refuses a config for another node, without a token, or with an expired token", () => {
    expect(() => applyNodeConfig(local, payload({ node_slug: "n2" }), now)).toThrow("config is for node n2, not n1");
    expect(() => applyNodeConfig(local, payload({ worker_api: {} }), now)).toThrow(
      "no worker_api.orchestrator_bearer_token",
    );
    const expired = payload({
      worker_api: { orchestrator_bearer_token: "t", orchestrator_bearer_token_expires_at: "2026-03-01T09:00:00Z" },
    });
    expect(() => applyNodeConfig(local, expired, now)).toThrow("expired at 2026-03-01T09:00:00Z");
  });
});
