/**
 * The sandbox tools as shell scripts for the request loop (tool-channel.ts), busybox only. A path is checked twice:
 * here by its text (under /workspace once normalized), then inside the sandbox after `realpath`, so a symlink out of
 * the workspace is refused too. Tool errors go to fd 5, what the tool prints to stdout.
 */
import { posix } from "node:path";
import { WORKSPACE_DIR } from "../sandbox/job-sandbox";
import { shellQuote as q } from "../sandbox/launcher";

export const PATH_ESCAPES = "path escapes workspace";
export class ToolError extends Error {}

/** A workspace path by its text: relative ones are under /workspace, absolute ones must be; `..` may not leave it. */
export function workspacePath(path: string): string {
  if (path.includes("\0")) throw new ToolError("path contains a NUL byte");
  const abs = posix.normalize(path.startsWith("/") ? path : `${WORKSPACE_DIR}/${path}`).replace(/(.)\/+$/, "$1");
  if (abs !== WORKSPACE_DIR && !abs.startsWith(`${WORKSPACE_DIR}/`)) throw new ToolError(PATH_ESCAPES);
  return abs;
}

/** Shell helpers every script starts with: `fail MSG`, and the realpath checks. */
const PRELUDE = [
  `fail() { printf '%s\\n' "$1" >&5; exit 1; }`,
  `inws() { case $1 in ${WORKSPACE_DIR}|${WORKSPACE_DIR}/*) return 0;; esac; return 1; }`,
  // An existing path: its real path must be in the workspace.
  `existing() { r=$(realpath "$1" 2>/dev/null) || fail "no such file or directory: $2"; inws "$r" || fail ${q(PATH_ESCAPES)}; [ -e "$r" ] || fail "no such file or directory: $2"; p=$r; }`,
  // A path to create: its nearest existing ancestor (and itself, if it exists) must really be in the workspace.
  `creatable() { d=\${1%/*}; while [ ! -e "$d" ] && [ ! -L "$d" ]; do d=\${d%/*}; done; r=$(realpath "\${d:-/}" 2>/dev/null) && inws "$r" || fail ${q(PATH_ESCAPES)}; if [ -e "$1" ] || [ -L "$1" ]; then existing "$1" "$2"; else p=$1; fi; }`,
].join("\n");

const script = (...lines: string[]) => `${PRELUDE}\n${lines.join("\n")}\n`;
const shown = (abs: string) => (abs === WORKSPACE_DIR ? "." : abs.slice(WORKSPACE_DIR.length + 1));

export function runCommandScript(argv: string[], cwd?: string): string {
  const dir = workspacePath(cwd ?? ".");
  return script(
    `existing ${q(dir)} ${q(shown(dir))}`,
    `[ -d "$p" ] || fail ${q(`not a directory: ${shown(dir)}`)}`,
    `cd "$p" || exit 1`,
    "exec 5>&-",
    `exec ${argv.map(q).join(" ")}`,
  );
}

export function readFileScript(path: string, start?: number, end?: number): string {
  const abs = workspacePath(path);
  const range = start !== undefined || end !== undefined;
  return script(
    `existing ${q(abs)} ${q(shown(abs))}`,
    `[ -f "$p" ] || fail ${q(`not a file: ${shown(abs)}`)}`,
    range ? `exec sed -n '${start ?? 1},${end ?? "$"}p' "$p"` : `exec cat "$p"`,
  );
}

/** The content is in `$IO/c<seq>` (the worker's file), never in the script or argv. */
export function writeFileScript(path: string): string {
  const abs = workspacePath(path);
  if (abs === WORKSPACE_DIR) throw new ToolError("path is the workspace itself");
  return script(
    `creatable ${q(abs)} ${q(shown(abs))}`,
    `[ -d "$p" ] && fail ${q(`is a directory: ${shown(abs)}`)}`,
    `mkdir -p "\${p%/*}" && cat "$IO/c$n" >"$p" || fail ${q(`could not write ${shown(abs)}`)}`,
    "echo ok",
  );
}

/** Every path on a `---`/`+++` line (`a/`/`b/` stripped, /dev/null skipped), checked by its text. */
export function diffPaths(diff: string): string[] {
  const paths: string[] = [];
  for (const line of diff.split("\n")) {
    const m = /^(?:---|\+\+\+) (\S+)/.exec(line);
    if (!m || m[1] === "/dev/null") continue;
    paths.push(workspacePath(m[1]!.replace(/^[ab]\//, "")));
  }
  if (paths.length === 0) throw new ToolError("diff names no file (no ---/+++ lines)");
  return paths;
}

/** The diff is in `$IO/c<seq>`; `patch -p1 -N` in /workspace once every path it names is really in it. */
export function applyDiffScript(diff: string): string {
  const checks = diffPaths(diff).map((abs) => `creatable ${q(abs)} ${q(shown(abs))}`);
  return script(
    ...checks,
    `cd ${WORKSPACE_DIR} || exit 1`,
    `patch -p1 -N -i "$IO/c$n"; rc=$?`,
    `[ "$rc" -eq 0 ] || fail "patch failed (exit $rc)"`,
  );
}

export function listTreeScript(path?: string): string {
  const abs = workspacePath(path ?? ".");
  return script(
    `existing ${q(abs)} ${q(shown(abs))}`,
    `[ -d "$p" ] || fail ${q(`not a directory: ${shown(abs)}`)}`,
    `cd "$p" || exit 1`,
    `find . -mindepth 1 | sort | while IFS= read -r f; do f=\${f#./}; if [ -d "$f" ] && [ ! -L "$f" ]; then echo "$f/"; else echo "$f"; fi; done`,
  );
}

/** `relpath:line:content` per match (path relative to the workspace), skipping .git and node_modules. */
export function searchFilesScript(pattern: string, path?: string, include?: string): string {
  const abs = workspacePath(path ?? ".");
  const name = include ? ` -name ${q(include)}` : "";
  return script(
    `existing ${q(abs)} ${q(shown(abs))}`,
    `echo | grep -E -e ${q(pattern)} >/dev/null 2>&1; [ $? -eq 2 ] && fail ${q(`invalid pattern: ${pattern}`)}`,
    `cd ${WORKSPACE_DIR} || exit 1`,
    `find ".\${p#${WORKSPACE_DIR}}" \\( -name .git -o -name node_modules \\) -prune -o -type f${name} -exec grep -nHE -e ${q(pattern)} {} + | sed 's|^\\./||'`,
    "exit 0",
  );
}
