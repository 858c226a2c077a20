/**
 * For cynork's tests: a real gateway (gateway-fixture) and a scratch dir, started before a file's (or describe's)
 * tests and closed after them, and cynork run in-process against that gateway with its own config file.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cynork/cli";
import { type GatewayFixture, startGatewayFixture } from "./gateway-fixture";
import { type MemoryIo, type MemoryIoOptions, memoryIo } from "./memory-io";

export type CynorkRun = { code: number; stdout: string; stderr: string; m: MemoryIo };

export type CynorkFixture = GatewayFixture & {
  /** Scratch dir, removed after the tests. */
  dir: string;
  /** The config file runs pass with `-c` (`<dir>/config.yaml` unless a test points it elsewhere). */
  config: string;
  /** Runs cynork in-process with `-c config`, talking to the gateway (CYNORK_GATEWAY_URL unless opts.env says). */
  cynork(argv: string[], opts?: MemoryIoOptions): Promise<CynorkRun>;
};

/** Registers the hooks that start and stop the fixture; its fields are there once the tests run. */
export function useCynorkFixture(options: Parameters<typeof startGatewayFixture>[0] = {}): CynorkFixture {
  const fixture = {
    async cynork(argv: string[], opts: MemoryIoOptions = {}): Promise<CynorkRun> {
      const m = memoryIo({ ...opts, env: { CYNORK_GATEWAY_URL: fixture.server.url.href, ...opts.env } });
      const code = await runCli(["-c", fixture.config, ...argv], m.io);
      return { code, stdout: m.stdout(), stderr: m.stderr(), m };
    },
  } as CynorkFixture;
  beforeAll(async () => {
    Object.assign(fixture, await startGatewayFixture(options));
    fixture.dir = await mkdtemp(join(tmpdir(), "cynork-test-"));
    fixture.config = join(fixture.dir, "config.yaml");
  });
  afterAll(async () => {
    await fixture.close?.();
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
