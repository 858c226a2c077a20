/**
 * `just demo`: the whole system from dist/bin on its embedded defaults (state under ./.state), a cynork session,
 * a commands task and (when an Ollama answers) a prompt task; it stays up until Ctrl+C. `just down` stops it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { root, startProcess, type ManagedProcess } from "../bdd/support/managed-process";
import { processAlive } from "../src/lib/process-alive";
import { runToExit } from "../src/testing/run-to-exit";

const bin = (name: string) => join(root, "dist", "bin", name);
const GATEWAY = "http://127.0.0.1:12080";
const CONTROL_PLANE = "http://127.0.0.1:12082";

/** As root the embedded Postgres runs as another user, who must be able to walk down to the state dir. */
function stateRoot(): string {
  const wanted = join(root, ".state");
  if (process.getuid?.() !== 0) return wanted;
  for (let d = root; d !== "/"; d = dirname(d)) if ((statSync(d).mode & 0o001) === 0) return "/var/lib/cynode/demo";
  return wanted;
}
const state = stateRoot();
const pidFile = join(root, ".state", "demo.pid");
const cynorkConfig = join(state, "cynork", "config.yaml");

async function secretFile(path: string, make: () => string | undefined): Promise<string | undefined> {
  if (existsSync(path)) return (await readFile(path, "utf8")).trim();
  const value = make();
  if (value) await writeFile(path, `${value}\n`, { mode: 0o600 });
  return value;
}

async function ollamaAt(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/api/tags`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function cynork(args: string[], stdin?: string): Promise<{ code: number; out: string }> {
  const r = await runToExit([bin("cynork"), "--config", cynorkConfig, ...args], {
    env: { ...process.env, CYNORK_GATEWAY_URL: GATEWAY },
    stdin,
  });
  return { code: r.code, out: r.stdout + r.stderr };
}

function nodeYaml(ollama: string | undefined): string {
  const inference = ollama ? `inference: { mode: allow, upstream_url: "${ollama}" }` : "inference: { mode: disabled }";
  return [
    `orchestrator: { url: "${CONTROL_PLANE}" }`,
    "node: { id: demo-node, name: Demo node }",
    "worker_api: { listen_host: 127.0.0.1, listen_port: 12090 }",
    `storage: { state_dir: "${join(state, "node")}" }`,
    inference,
    "",
  ].join("\n");
}

/** The processes the demo started, and how it stops them (on a failure, Ctrl+C or SIGTERM). */
function supervisor() {
  const children: ManagedProcess[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const c of children.reverse()) await c.stop();
    await rm(pidFile, { force: true });
  };
  const fail = async (message: string): Promise<never> => {
    console.error(`demo: ${message}`);
    await stopAll();
    process.exit(1);
  };
  process.on("SIGINT", () => void stopAll().then(() => process.exit(0)));
  process.on("SIGTERM", () => void stopAll().then(() => process.exit(0)));
  return {
    fail,
    get stopping() {
      return stopping;
    },
    /** Starts a child and records its pid for `just down`. */
    async start(name: string, argv: string[], opts: Parameters<typeof startProcess>[2]) {
      const child = startProcess(name, argv, opts);
      children.push(child);
      await writeFile(pidFile, JSON.stringify({ demo: process.pid, children: children.map((c) => c.pid) }));
      return child;
    },
    ended: () => Promise.race(children.map((c) => c.exited.then((code) => `${c.name} exited with code ${code}`))),
  };
}
type Supervisor = ReturnType<typeof supervisor>;

/** Starts the orchestrator with the admin password the demo chose (so the orchestrator never prints one). */
async function orchestratorUp(demo: Supervisor, psk: string, password: string) {
  const orchestrator = await demo.start(
    "orchestrator",
    [bin("orchestrator"), "--state-dir", join(state, "orchestrator")],
    {
      env: {
        USER_GATEWAY_LISTEN_ADDR: "127.0.0.1:12080",
        CONTROL_PLANE_LISTEN_ADDR: "127.0.0.1:12082",
        ORCHESTRATOR_PUBLIC_URL: CONTROL_PLANE,
        NODE_REGISTRATION_PSK: psk,
        BOOTSTRAP_ADMIN_PASSWORD: password,
      },
      logFile: join(state, "logs", "orchestrator.log"),
      detached: true,
    },
  );
  await orchestrator
    .waitForLine(/"msg":"user gateway listening"/)
    .catch((e: Error) => demo.fail(`the orchestrator did not start:\n${e.message}`));
  console.log(`demo: orchestrator up (gateway ${GATEWAY}, control-plane ${CONTROL_PLANE}, embedded Postgres)`);
}

/** Starts the worker node, with inference when an Ollama answers; resolves to that Ollama's URL, if any. */
async function nodeUp(demo: Supervisor, psk: string): Promise<string | undefined> {
  const ollamaUrl = (process.env.OLLAMA_UPSTREAM_URL || "http://127.0.0.1:11434").replace(/\/+$/, "");
  const ollama = (await ollamaAt(ollamaUrl)) ? ollamaUrl : undefined;
  console.log(
    ollama
      ? `demo: using the Ollama at ${ollama}`
      : `demo: no Ollama answers at ${ollamaUrl}; the node runs without inference (set OLLAMA_UPSTREAM_URL to use one)`,
  );
  await mkdir(join(state, "node"), { recursive: true });
  await writeFile(join(state, "node", "node.yaml"), nodeYaml(ollama));
  const node = await demo.start("worker-node", [bin("worker-node"), "--config", join(state, "node", "node.yaml")], {
    env: { NODE_REGISTRATION_PSK: psk },
    logFile: join(state, "logs", "worker-node.log"),
    detached: true,
  });
  await node
    .waitForLine(/"msg":"node ready"/, 300_000)
    .catch((e: Error) => demo.fail(`the worker node did not start:\n${e.message}`));
  console.log("demo: worker node registered, configured and ready (Worker API http://127.0.0.1:12090)");
  return ollama;
}

/** A cynork session as a user would type it: login, a commands task, and a prompt task when there is a model. */
async function session(demo: Supervisor, password: string, ollama: string | undefined): Promise<void> {
  const login = await cynork(["auth", "login", "-u", "admin", "--password-stdin"], `${password}\n`);
  if (login.code !== 0) return demo.fail(`cynork login failed: ${login.out}`);
  console.log(`\n$ cynork auth login -u admin --password-stdin\n${login.out}`);
  const show = async (args: string[]) => {
    const r = await cynork(args);
    console.log(`$ cynork ${args.map((a) => (/[\s$|]/.test(a) ? `'${a}'` : a)).join(" ")}\n${r.out}`);
    return r;
  };
  // The result line holds the output JSON-quoted; the logs show it as the sandbox printed it.
  const runTask = async (args: string[]) => {
    const id = /task_id=(\S+)/.exec((await show(["-q", "task", "create", ...args, "--result"])).out)?.[1];
    if (id) await show(["task", "logs", id]);
  };
  await runTask([
    "--command",
    "echo Hello from a CyNodeAI sandbox",
    "--command",
    'echo "network interfaces:" $(ip -o link | cut -d: -f2)',
  ]);
  if (ollama) await runTask(["-p", "In one sentence: what is a sandbox?"]);
}

async function up(): Promise<void> {
  for (const d of [join(state, "logs"), join(state, "cynork"), join(root, ".state")])
    await mkdir(d, { recursive: true, mode: 0o755 });
  await chmod(state, 0o755);
  const psk = (await secretFile(join(state, "node-psk"), () => crypto.randomUUID()))!;
  const passwordFile = join(state, "admin-password");
  const demo = supervisor();
  console.log(`demo: state in ${state}, logs in ${join(state, "logs")}`);
  // The password lives only in its 0600 file (or the caller's variable): the demo makes it, so no log ever holds it.
  const firstStart = !existsSync(join(state, "orchestrator"));
  const password =
    process.env.BOOTSTRAP_ADMIN_PASSWORD ||
    (await secretFile(passwordFile, () => (firstStart ? randomBytes(18).toString("base64url") : undefined)));
  if (!password)
    return demo.fail(`no admin password: this state was made earlier; set BOOTSTRAP_ADMIN_PASSWORD or remove ${state}`);
  await orchestratorUp(demo, psk, password);
  const ollama = await nodeUp(demo, psk);
  await session(demo, password, ollama);
  console.log(
    [
      "CyNodeAI is running. Keep using it with cynork:",
      `  alias cynork='${bin("cynork")} --config ${cynorkConfig}'`,
      "  cynork task create --command 'uname -a' --result",
      "  cynork task list",
      `admin password: ${process.env.BOOTSTRAP_ADMIN_PASSWORD ? "BOOTSTRAP_ADMIN_PASSWORD" : passwordFile}`,
      "Ctrl+C here, or `just down` elsewhere, stops it.",
    ].join("\n"),
  );
  const ended = await demo.ended();
  if (!demo.stopping) await demo.fail(ended);
}

/** Stops a demo started by `up`: the demo itself when alive, else the children it left. */
async function down(): Promise<void> {
  if (!existsSync(pidFile)) return console.log("demo: not running");
  const { demo, children } = JSON.parse(await readFile(pidFile, "utf8")) as { demo: number; children: number[] };
  const targets = processAlive(demo) ? [demo] : children.filter(processAlive);
  for (const pid of targets) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 600 && targets.some(processAlive); i++) await Bun.sleep(100);
  await rm(pidFile, { force: true });
  console.log(
    targets.some(processAlive) ? `demo: still running: ${targets.filter(processAlive).join(" ")}` : "demo: stopped",
  );
}

await (process.argv[2] === "down" ? down() : up());
