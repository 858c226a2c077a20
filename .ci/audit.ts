/**
 * `just audit`: checks the locked dependencies against what the npm registry offers, and says what it could not check.
 *  1. Known vulnerabilities: `bun audit` (the registry's bulk advisory endpoint); fails on findings at or above
 *     AUDIT_LEVEL (default high). A registry that does not offer the endpoint (this machine's answers 405) is reported
 *     as "not checked", not as a failure: CI cannot fix the registry.
 *  2. Every direct dependency, at its locked version: the registry still publishes it, with the lockfile's integrity
 *     hash (a changed or unpublished tarball fails), and it is not deprecated (a deprecated runtime dependency fails,
 *     a deprecated dev dependency warns). Whether the registry carries deprecation notices at all is probed once.
 */
import pkg from "../package.json" with { type: "json" };

const LEVEL = process.env.AUDIT_LEVEL ?? "high";
/** A package deprecated by its authors on the public registry: if it does not show as deprecated, notices are missing. */
const DEPRECATED_CANARY = "request@2.88.2";
const root = `${import.meta.dir}/..`;

type Info = { dist?: { integrity?: string }; deprecated?: string };

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, out, err };
}

async function info(spec: string): Promise<Info | undefined> {
  const r = await run(["bun", "info", spec, "--json"]);
  return r.code === 0 ? (JSON.parse(r.out) as Info) : undefined;
}

/** 0 when clean, 1 on findings; "unavailable" when the registry offers no advisories. */
async function advisories(): Promise<0 | 1 | "unavailable"> {
  const r = await run(["bun", "audit", `--audit-level=${LEVEL}`]);
  const unavailable = /advisories\/bulk - (\d+)|ConnectionRefused|ENOTFOUND|timed out/i.exec(r.err + r.out);
  if (r.code !== 0 && unavailable) {
    console.log(`audit: vulnerabilities NOT CHECKED: the registry does not offer security advisories`);
    console.log(`       (bun audit: ${(r.err.trim().split("\n").at(-1) ?? "").slice(0, 160)})`);
    return "unavailable";
  }
  process.stdout.write(r.out + r.err);
  console.log(`audit: vulnerabilities at or above "${LEVEL}": ${r.code === 0 ? "none" : "FOUND (see above)"}`);
  return r.code === 0 ? 0 : 1;
}

/** The locked version and integrity of each direct dependency. */
async function lockedDirect(): Promise<{ name: string; version: string; integrity: string; dev: boolean }[]> {
  const lock = (await import("../bun.lock")).default as { packages: Record<string, [string, string, unknown, string]> };
  const direct = [
    ...Object.keys(pkg.dependencies).map((name) => ({ name, dev: false })),
    ...Object.keys(pkg.devDependencies).map((name) => ({ name, dev: true })),
  ];
  return direct.map(({ name, dev }) => {
    const [spec, , , integrity] = lock.packages[name] ?? [];
    if (!spec) throw new Error(`${name} is not in bun.lock: run bun install`);
    return { name, version: spec.slice(spec.lastIndexOf("@") + 1), integrity, dev };
  });
}

async function registryChecks(): Promise<number> {
  const deps = await lockedDirect();
  const infos = await Promise.all(deps.map((d) => info(`${d.name}@${d.version}`)));
  if (infos.every((i) => i === undefined)) {
    console.log(`audit: dependencies NOT CHECKED: the registry did not answer (bun info ${deps[0]?.name})`);
    return 0;
  }
  let failures = 0;
  deps.forEach((d, i) => {
    const got = infos[i];
    const problem = !got
      ? "not published in the registry any more"
      : got.dist?.integrity !== d.integrity
        ? "registry integrity differs from bun.lock"
        : got.deprecated
          ? `deprecated: ${got.deprecated}`
          : undefined;
    if (!problem) return;
    const fatal = !(d.dev && got?.deprecated && got.dist?.integrity === d.integrity);
    failures += fatal ? 1 : 0;
    console.log(`audit: ${fatal ? "FAIL" : "warn"} ${d.name}@${d.version}${d.dev ? " (dev)" : ""}: ${problem}`);
  });
  const notices = Boolean((await info(DEPRECATED_CANARY))?.deprecated);
  console.log(
    `audit: ${deps.length} direct dependencies checked (published, integrity as locked), ` +
      (notices
        ? "deprecation checked "
        : "deprecation NOT CHECKED (this registry's metadata carries no deprecation notices) ") +
      `-> ${failures ? `${failures} problem(s)` : "ok"}`,
  );
  return failures;
}

const vulns = await advisories();
const problems = await registryChecks();
process.exit(vulns === 1 || problems > 0 ? 1 : 0);
