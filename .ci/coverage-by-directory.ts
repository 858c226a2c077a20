/**
 * Line coverage per directory of src/ (and containers/), from bun's coverage/lcov.info; exits 1 when a directory is
 * below the bar. bunfig.toml already holds every file to it; this is the summary CI prints.
 * Usage: bun .ci/coverage-by-directory.ts [lcov path] [minimum percent]
 */
import { dirname, relative } from "node:path";

const [lcovPath = "coverage/lcov.info", minimum = "90"] = process.argv.slice(2);
const totals = new Map<string, { found: number; hit: number }>();
let file = "";
for (const line of (await Bun.file(lcovPath).text()).split("\n")) {
  if (line.startsWith("SF:")) file = relative(process.cwd(), line.slice(3));
  const m = /^(LF|LH):(\d+)$/.exec(line);
  if (!m || !/^(src|containers)\//.test(file)) continue;
  const t = totals.get(dirname(file)) ?? { found: 0, hit: 0 };
  if (m[1] === "LF") t.found += Number(m[2]);
  else t.hit += Number(m[2]);
  totals.set(dirname(file), t);
}
let failed = false;
console.log("line coverage by directory");
for (const [dir, t] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
  const pct = t.found ? (100 * t.hit) / t.found : 100;
  const low = pct < Number(minimum);
  failed ||= low;
  console.log(
    `  ${dir.padEnd(40)} ${pct.toFixed(2).padStart(6)} %  (${t.hit}/${t.found})${low ? `  below ${minimum} %` : ""}`,
  );
}
if (!totals.size) {
  console.error(`no coverage data for src/ in ${lcovPath}`);
  process.exit(1);
}
process.exit(failed ? 1 : 0);
