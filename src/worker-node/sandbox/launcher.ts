/**
 * A job's launcher: the shell script a sandbox's `sh -s` reads on its stdin. It carries the job's environment, its
 * deadline and its command, so none of them travels in podman's argv (where one argument over 128 KiB is E2BIG) and
 * a warm sandbox, started before its job was known, can take any job.
 */

/** What a cold sandbox runs: its launcher arrives on stdin. */
export const LAUNCHER_COMMAND = ["sh", "-s"];
/** Printed on stderr by a warm sandbox once its shell waits for a launcher; the job's own stderr follows it. */
export const READY_MARK = "cynode-sandbox-ready\n";
/** What a warm sandbox runs: it says it is ready, then waits for one launcher (EOF, e.g. its worker gone: it exits). */
export const WAITING_COMMAND = ["sh", "-c", `printf '${READY_MARK.trim()}\\n' >&2; exec sh -s`];
/** Where a shell script is written inside the sandbox (its /tmp tmpfs) before it runs. */
const SCRIPT_FILE = "/tmp/.cynode-job.sh";
const SHELLS = /^(\/usr)?(\/bin\/)?(sh|ash|bash|dash)$/;
/** The worker's own timer fires first; the sandbox's deadline is the back-stop when the worker is gone. */
const DEADLINE_GRACE_SECONDS = 1;

export const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A here-document delimiter that cannot occur in the script. */
function delimiter(script: string): string {
  for (;;) {
    const d = `CYNODE_JOB_${crypto.randomUUID().replaceAll("-", "")}`;
    if (!script.includes(d)) return d;
  }
}

/** `sh -c SCRIPT [name args…]`: a command that carries a script (and so an image that has a shell). */
export const isShellScript = ([shell, flag, script]: string[]) =>
  !!shell && SHELLS.test(shell) && flag === "-c" && script !== undefined;

/** The job's command: `sh -c SCRIPT [args]` becomes a script file (any size), anything else is run as argv. */
function commandLines(command: string[]): string[] {
  const [shell = "", , script = "", ...rest] = command;
  if (isShellScript(command)) {
    const end = delimiter(script);
    return [
      `cat > ${SCRIPT_FILE} <<'${end}'`,
      script,
      end,
      `${shellQuote(shell)} ${SCRIPT_FILE} ${rest.slice(1).map(shellQuote).join(" ")} </dev/null`,
    ];
  }
  return [`${command.map(shellQuote).join(" ")} </dev/null`];
}

/**
 * The launcher runs as the sandbox's pid 1, so the job is its child: a watchdog can kill every process but pid 1
 * at the deadline (pid 1 itself ignores signals from inside), after which pid 1 exits with the job's status.
 */
export function jobLauncher(o: { command: string[]; env: Record<string, string>; timeoutSeconds: number }): string {
  const lines = Object.entries(o.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  lines.push(`(sleep ${o.timeoutSeconds + DEADLINE_GRACE_SECONDS}; kill -KILL -1) >/dev/null 2>&1 </dev/null &`);
  lines.push(...commandLines(o.command));
  return `${lines.join("\n")}\n`;
}
