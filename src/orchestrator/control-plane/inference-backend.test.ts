import { describe, expect, it } from "bun:test";
import * as v from "valibot";
import { NodeCapabilityReport } from "../../contracts/node-payloads";
import { canonicalJson, contentHash } from "./canonical-hash";
import { contextSize, deriveInferenceBackend, gpuVariant, modelForVram } from "./inference-backend";

const report = (extra: Record<string, unknown>) =>
  v.parse(NodeCapabilityReport, {
    version: 1,
    reported_at: "2026-02-16T12:00:00Z",
    node: { node_slug: "n1" },
    platform: { os: "linux", arch: "amd64" },
    compute: { cpu_cores: 4, ram_mb: 4096 },
    ...extra,
  });

describe("deriveInferenceBackend", () => {
  it("tells an inference-capable node without its own service to start one", () => {
    const b = deriveInferenceBackend(report({ inference: { supported: true, existing_service: false } }));
    expect(b).toEqual({
      enabled: true,
      variant: "cpu",
      port: 11434,
      env: { OLLAMA_CONTEXT_LENGTH: "8192", OLLAMA_NUM_CTX: "8192" },
      selected_model: "qwen3.5:0.8b",
    });
  });

  it("does not start inference when the node uses an existing service, disables it, or is sandbox-only", () => {
    expect(deriveInferenceBackend(report({ inference: { supported: true, existing_service: true } }))?.enabled).toBe(
      false,
    );
    expect(deriveInferenceBackend(report({ inference: { supported: true, mode: "disabled" } }))?.enabled).toBe(false);
    expect(
      deriveInferenceBackend(
        report({ node: { node_slug: "n1", labels: ["sandbox_only"] }, inference: { supported: true } }),
      )?.enabled,
    ).toBe(false);
    expect(deriveInferenceBackend(report({ inference: { supported: false } }))).toBeUndefined();
    expect(deriveInferenceBackend(undefined)).toBeUndefined();
  });

  it("picks the GPU variant, context size and model from the devices, and honours a configured model", () => {
    const b = deriveInferenceBackend(
      report({
        gpu: { present: true, devices: [{ vendor: "NVIDIA", vram_mb: 12000 }] },
        inference: { supported: true },
      }),
      { model: "m:1" },
    );
    expect(b).toMatchObject({ variant: "cuda", selected_model: "m:1", env: { OLLAMA_NUM_CTX: "40960" } });
    expect(gpuVariant([{ features: { rocm_version: "unknown" } }, { vendor: "NVIDIA" }])).toBe("rocm");
    expect(contextSize("cuda", 2000)).toBe(16384);
    expect(contextSize("cuda", 100)).toBe(8192);
    expect(contextSize("cuda", 0)).toBe(8192);
    const models = [24000, 8000, 4000, 0].map((mb) => modelForVram(mb));
    expect(models).toEqual(["qwen3.5:35b", "qwen3.5:9b", "qwen3:8b", "qwen3.5:0.8b"]);
  });
});

describe("contentHash", () => {
  it("ignores key order but not values", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash({})).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
