/**
 * An external Postgres for the fault tests: the TEST-ONLY image `localhost/cynode-test-postgres` (built here from
 * containers/test-postgres, the embedded server tree: no registry is reachable), started with testcontainers
 * through podman's Docker-API socket, which this module starts and stops itself.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "../../containers/build-image";
import { createPodman, type Podman } from "../../src/worker-node/sandbox/podman";
import { root, startProcess } from "./managed-process";

const containersConf = join(root, "containers", "containers.conf");
export const podman: Podman = createPodman({ containersConf });

/** `podman system service` on a socket of our own, until `stop()`. */
export async function startPodmanSocket(): Promise<{ socket: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-podman-api-"));
  const socket = join(dir, "podman.sock");
  const service = startProcess(
    "podman system service",
    ["podman", "system", "service", "--time=0", `unix://${socket}`],
    {
      env: { CONTAINERS_CONF: containersConf },
    },
  );
  const stop = async () => {
    await service.stop(5_000);
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 600; i++) {
    if (existsSync(socket)) {
      const ping = await fetch("http://podman/_ping", { unix: socket } as RequestInit).catch(() => undefined);
      if (ping?.ok) return { socket, stop };
    }
    await Bun.sleep(100);
  }
  await stop();
  throw new Error(`podman's API socket did not answer:\n${service.output()}`);
}

export type PostgresContainer = { id: string; url: string; stop(): Promise<void> };

/** Builds the image (a no-op when unchanged) and starts one server with testcontainers; `url` is its DATABASE_URL. */
export async function startPostgresContainer(): Promise<PostgresContainer> {
  const { image } = await buildImage({
    name: "test-postgres",
    podman,
    containersDir: join(root, "containers"),
    log: () => {},
  });
  const api = await startPodmanSocket();
  try {
    process.env.DOCKER_HOST = `unix://${api.socket}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    const { GenericContainer, Wait } = await import("testcontainers");
    const container = await new GenericContainer(image)
      .withExposedPorts(5432)
      .withLabels({ "io.cynodeai.test": "faults-database" })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
      .withStartupTimeout(120_000)
      .start();
    return {
      id: container.getId(),
      url: `postgres://postgres@127.0.0.1:${container.getMappedPort(5432)}/postgres`,
      async stop() {
        await container
          .stop({ timeout: 5_000 })
          .catch(() => podman.exec(["rm", "--force", "--time=0", container.getId()]));
        await api.stop();
      },
    };
  } catch (err) {
    await api.stop();
    throw err;
  }
}

/** `podman stop` / `podman start` of the container, as an operator (or a crash and a restart policy) would. */
export async function containerCommand(verb: "stop" | "start", id: string): Promise<void> {
  const r = await podman.exec(verb === "stop" ? ["stop", "--time=5", id] : ["start", id]);
  if (r.exitCode !== 0) throw new Error(`podman ${verb} ${id} failed: ${r.stderr}`);
}
