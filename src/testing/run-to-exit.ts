/** TEST SUPPORT: runs a process to its end; its exit code and everything it printed. */
export type ProcessOutcome = { code: number; stdout: string; stderr: string };

export async function runToExit(
  argv: string[],
  o: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string } = {},
): Promise<ProcessOutcome> {
  const proc = Bun.spawn(argv, {
    cwd: o.cwd,
    env: o.env,
    stdin: o.stdin === undefined ? "ignore" : new TextEncoder().encode(o.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
