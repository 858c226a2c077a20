/**
 * A job's launcher: the shell script a sandbox's `sh -s` reads as its stdin. It carries the job's environment, its
 * deadline and its command, so none of them travels in podman's argv (where one argument over 128 KiB is E2BIG) and
 * a sandbox started before its job was known (a warm one) can take any job. After the job it prints end marks, so
 * the worker knows the job's output and exit status as soon as it exits, not when podman has noticed.
 */

/** Where a sandbox's FIFOs and its job's launcher are inside it (the worker's io directory, sandbox.ts). */
export const IO_DIR = "/run/cynode-io";
export const LAUNCHER_FILE = "launch.sh";
/** Printed on stderr once the sandbox holds its FIFOs and waits for its job; the job's own stderr follows it. */
export const READY_MARK = "cynode-sandbox-ready\n";
/**
 * What every launched sandbox runs first: it takes the FIFOs as its standard streams, says it is ready, waits for
 * the go line (EOF, e.g. its worker gone: it exits), then becomes `sh -s` reading the job's launcher.
 */
export const WAITING_COMMAND = [
  "sh",
  "-c",
  `exec <${IO_DIR}/in >${IO_DIR}/out 2>${IO_DIR}/err; printf '${READY_MARK.trim()}\\n' >&2; read -r go || exit 0; exec sh -s <${IO_DIR}/${LAUNCHER_FILE}`,
];
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

/** A fresh end mark per job: `<mark>` closes its stdout, `<mark> <status>` its stderr. */
export const newEndMark = () => `cynode-end-${crypto.randomUUID().replaceAll("-", "")}`;

/**
 * The launcher runs as the sandbox's pid 1, so the job is its child: a watchdog can kill every process but pid 1
 * at the deadline (pid 1 itself ignores signals from inside), after which pid 1 reports and exits with the job's status.
 */
export function jobLauncher(o: {
  command: string[];
  env: Record<string, string>;
  timeoutSeconds: number;
  endMark: string;
  /** Run before the job (placing its attachments) and after it (collecting its artifacts), as pid 1. */
  before?: string[];
  after?: string[];
}): string {
  const lines = Object.entries(o.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  lines.push(`(sleep ${o.timeoutSeconds + DEADLINE_GRACE_SECONDS}; kill -KILL -1) >/dev/null 2>&1 </dev/null &`);
  lines.push(...(o.before ?? []), ...commandLines(o.command), "rc=$?", ...(o.after ?? []));
  const mark = shellQuote(o.endMark);
  lines.push(`printf '%s' ${mark}`, `printf '%s %s\\n' ${mark} "$rc" >&2`, 'exit "$rc"');
  return `${lines.join("\n")}\n`;
}
