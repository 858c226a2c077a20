import { describe, expect, it } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, inferenceLimits, isPinnedImage, loadNodeConfig } from "./config";

async function yamlFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "cynode-node-cfg-")), "node.yaml");
  await writeFile(path, text);
  return path;
}

describe("loadNodeConfig: defaults and the environment", () => {
  it("applies the documented defaults with only a PSK in the environment", async () => {
    const cfg = await loadNodeConfig({ path: await yamlFile(""), env: { NODE_REGISTRATION_PSK: " s3cret " } });
    expect(cfg).toMatchObject({
      psk: "s3cret",
      orchestrator: { url: "http://localhost:12082", capability_report_interval_seconds: 60 },
      node: { id: "node-01", name: "Default Node", labels: [] },
      worker_api: { listen_host: "0.0.0.0", listen_port: 12090, max_request_bytes: 10485760 },
      sandbox: {
        default_image: "localhost/cynode-sandbox:latest",
        timeouts: { default_seconds: 3600, max_seconds: 10800 },
        resources: { max_pids: 512, max_disk_mb: 1024 },
        warm_pool: 2,
      },
      storage: { state_dir: "/var/lib/cynode/state" },
      mountRoot: "/var/lib/cynode/state/sandbox_mounts",
      inference: {
        mode: "allow",
        upstream_url: "http://127.0.0.1:11434",
        ollama_image: "docker.io/ollama/ollama:0.24.0",
        models_volume: "cynodeai-ollama-models",
        start_timeout_seconds: 120,
        proxy_image: "localhost/cynode-inference-proxy:latest",
        proxy_timeout_seconds: 120,
        warm_pods: 1,
        default_models: ["qwen3.5:0.8b"],
        max_tokens: 4096,
        max_context: 8192,
        max_keep_alive: "5m",
        proxy_max_connections: 16,
      },
    });
  });

  it("takes the inference settings from YAML and the reference's environment names", async () => {
    const path = await yamlFile("inference: { mode: require, proxy_timeout_seconds: 5 }\n");
    const env = {
      NODE_REGISTRATION_PSK: "p",
      OLLAMA_UPSTREAM_URL: "http://ollama.lan:11434/",
      OLLAMA_IMAGE: "localhost/o:1",
      OLLAMA_MODELS_VOLUME: "models",
      INFERENCE_PROXY_IMAGE: "localhost/p:1",
      INFERENCE_PROXY_BINARY: "/opt/cynode/inference-proxy",
    };
    expect((await loadNodeConfig({ path, env })).inference).toMatchObject({
      mode: "require",
      proxy_timeout_seconds: 5,
      upstream_url: "http://ollama.lan:11434",
      ollama_image: "localhost/o:1",
      models_volume: "models",
      proxy_image: "localhost/p:1",
      proxy_binary: "/opt/cynode/inference-proxy",
    });
  });

  it("takes the inference limits and default models from YAML, and refuses bad ones", async () => {
    const env = { NODE_REGISTRATION_PSK: "p" };
    const good = await yamlFile(
      "inference: { default_models: [llama3, 'q:1'], max_tokens: 100, max_context: 2048, max_keep_alive: 30s }\n",
    );
    const cfg = await loadNodeConfig({ path: good, env });
    expect(inferenceLimits(cfg)).toEqual({ maxTokens: 100, maxContext: 2048, keepAlive: "30s" });
    expect(cfg.inference.default_models).toEqual(["llama3", "q:1"]);
    const bad = await yamlFile("inference: { default_models: ['a b'], max_keep_alive: forever, max_tokens: 0 }\n");
    const err = await loadNodeConfig({ path: bad, env }).catch((e: Error) => e.message);
    expect(err).toContain("inference.default_models.0: must be model names");
    expect(err).toContain("inference.max_tokens");
    expect(err).toContain("inference.max_keep_alive: must be a duration such as 5m");
  });

  it("runs on environment alone when the default YAML file does not exist", async () => {
    const cfg = await loadNodeConfig({
      env: { NODE_REGISTRATION_PSK: "p", NODE_SLUG: "env-only" },
      defaultPath: "/nonexistent/node.yaml",
    });
    expect(cfg.node.id).toBe("env-only");
  });
});

describe("loadNodeConfig: YAML and the PSK file", () => {
  it("reads YAML keys, a PSK file, and lets the environment win", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cynode-node-cfg-"));
    await writeFile(join(dir, "psk"), "file-psk\n");
    const path = await yamlFile(`
orchestrator:
  url: http://orch.example:12082/
  registration_psk_file: ${join(dir, "psk")}
node: { id: gpu-box, labels: [sandbox_only] }
worker_api: { listen_port: 12345, public_base_url: "http://gpu-box:12345" }
sandbox:
  mount_root: /srv/mounts
  resources: { max_cpu_cores: 1.5, max_memory_mb: 1024, max_pids: 128 }
storage: { state_dir: /srv/state }
`);
    const cfg = await loadNodeConfig({
      path,
      env: { NODE_SLUG: "env-slug", CAPABILITY_REPORT_INTERVAL: "2m", CYNODE_SANDBOX_MOUNT_ROOT: "/env/mounts" },
    });
    expect(cfg.psk).toBe("file-psk");
    expect(cfg.orchestrator.url).toBe("http://orch.example:12082");
    expect(cfg.node).toEqual({ id: "env-slug", name: "Default Node", labels: ["sandbox_only"] });
    expect(cfg.worker_api.listen_port).toBe(12345);
    expect(cfg.sandbox.resources).toEqual({
      max_cpu_cores: 1.5,
      max_memory_mb: 1024,
      max_pids: 128,
      max_disk_mb: 1024,
    });
    expect(cfg.orchestrator.capability_report_interval_seconds).toBe(120);
    expect(cfg.mountRoot).toBe("/env/mounts");
  });
});

describe("loadNodeConfig: what it refuses", () => {
  it("lists every problem at once, and refuses an inline PSK", async () => {
    const path = await yamlFile(
      "orchestrator: { url: not-a-url, registration_psk: inline }\nworker_api: { listen_port: 99999 }\nsandbox: { runtime: docker }\n",
    );
    const err = await loadNodeConfig({
      path,
      env: { NODE_REGISTRATION_PSK: "x", WORKER_API_PORT: "abc", CAPABILITY_REPORT_INTERVAL: "soon" },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    for (const part of [
      "registration_psk: the PSK must not be inline",
      "WORKER_API_PORT: must be a whole number",
      "CAPABILITY_REPORT_INTERVAL",
      "orchestrator.url: must be a URL",
      "sandbox.runtime: only podman is supported",
    ]) {
      expect(err.message).toContain(part);
    }
  });

  it("refuses a managed Ollama image that is not pinned to a tag or digest", async () => {
    const env = { NODE_REGISTRATION_PSK: "x" };
    for (const image of ["ollama/ollama", "--privileged", "localhost:5000/ollama", "a b:1"]) {
      await expect(loadNodeConfig({ path: await yamlFile(""), env: { ...env, OLLAMA_IMAGE: image } })).rejects.toThrow(
        "inference.ollama_image: must be an image reference with a tag or digest",
      );
    }
    const digest = `ollama/ollama@sha256:${"0".repeat(64)}`;
    for (const image of ["docker.io/ollama/ollama:0.24.0", "localhost:5000/o/ollama:1", digest])
      expect(isPinnedImage(image)).toBe(true);
    const yaml = await yamlFile("inference: { ollama_image: 'quay.io/me/ollama:0.24.0-rocm' }\n");
    expect((await loadNodeConfig({ path: yaml, env })).inference.ollama_image).toBe("quay.io/me/ollama:0.24.0-rocm");
  });

  it("explains a missing PSK, an unreadable or empty PSK file, a missing --config and bad YAML", async () => {
    await expect(loadNodeConfig({ path: await yamlFile("{}"), env: {} })).rejects.toThrow("set NODE_REGISTRATION_PSK");
    await expect(
      loadNodeConfig({ path: await yamlFile("orchestrator: { registration_psk_file: /nonexistent/psk }"), env: {} }),
    ).rejects.toThrow("cannot read orchestrator.registration_psk_file");
    const empty = join(await mkdtemp(join(tmpdir(), "cynode-psk-")), "psk");
    await writeFile(empty, "\n");
    await expect(
      loadNodeConfig({ path: await yamlFile(`orchestrator: { registration_psk_file: ${empty} }`), env: {} }),
    ).rejects.toThrow("is empty");
    await expect(loadNodeConfig({ path: "/nonexistent/node.yaml", env: {} })).rejects.toThrow(
      "cannot read /nonexistent/node.yaml",
    );
    await expect(loadNodeConfig({ path: await yamlFile("a: [1"), env: {} })).rejects.toThrow("not valid YAML");
    await expect(loadNodeConfig({ path: await yamlFile("- 1"), env: {} })).rejects.toThrow("must hold a YAML mapping");
  });
});
