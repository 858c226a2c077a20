/** Runs the real cynork CLI against the orchestrator's gateway with the scenario's own config file. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command } from "./managed-process";
import { runToExit } from "../../src/testing/run-to-exit";

export type CynorkRun = { code: number; stdout: string; stderr: string };

/** `dir` is also cynork's working directory, where scenarios put the files they pass it. */
export type CynorkSession = { dir: string; configPath: string; gatewayUrl: string; cleanup(): Promise<void> };

export async function cynorkSession(gatewayUrl: string): Promise<CynorkSession> {
  const dir = await mkdtemp(join(tmpdir(), "cynode-bdd-cynork-"));
  return {
    dir,
    configPath: join(dir, "cynork", "config.yaml"),
    gatewayUrl,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function runCynork(
  s: CynorkSession,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CynorkRun> {
  const { CYNORK_TOKEN: _token, ...env } = process.env;
  return runToExit([...command("cynork"), "--config", s.configPath, ...args], {
    cwd: s.dir,
    env: { ...env, CYNORK_GATEWAY_URL: s.gatewayUrl, NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin,
  });
}

/** Splits a command line the way a shell would for plain words and '…' / "…" quoting. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}
