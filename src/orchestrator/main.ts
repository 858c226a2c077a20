/** orchestrator entrypoint: user gateway, control-plane and dispatcher over Postgres (embedded unless DATABASE_URL). */
import { defineCommand, runMain } from "citty";
import { exitOnSignals } from "../lib/exit-on-signals";
import { batchedStderr, createLogger } from "../lib/log";
import { VERSION } from "../lib/version";
import { loadConfig } from "./config";
import { isLostSocketWrite } from "./db/connect";
import { migrateOnly } from "./db/open-database";
import { startOrchestrator } from "./start";

const main = defineCommand({
  meta: {
    name: "orchestrator",
    version: VERSION,
    description:
      "CyNodeAI orchestrator: user gateway (:12080), control-plane (:12082) and dispatcher. Configured by environment (see README).",
  },
  args: {
    "state-dir": {
      type: "string",
      description:
        "State directory (embedded Postgres, generated secrets). Default /var/lib/cynode/orchestrator as root, else $XDG_STATE_HOME/cynode/orchestrator",
    },
    "migrate-only": { type: "boolean", description: "Apply database migrations, then exit" },
  },
  async run({ args }) {
    let config;
    try {
      config = loadConfig(process.env, { stateDir: args["state-dir"] });
    } catch (err) {
      console.error(`orchestrator: ${(err as Error).message}`);
      process.exit(2);
    }
    const stderr = batchedStderr();
    process.on("exit", stderr.flush);
    process.on("uncaughtException", (err) => {
      if (isLostSocketWrite(err)) return; // the pool replaces the connection (db/connect.ts)
      console.error(err);
      process.exit(1);
    });
    const log = createLogger({ name: "orchestrator", level: config.LOG_LEVEL, write: stderr.write });
    if (args["migrate-only"]) {
      await migrateOnly({ databaseUrl: config.DATABASE_URL, stateDir: config.CYNODE_STATE_DIR, log });
      return;
    }
    const starting = startOrchestrator(config, log, { announce: (line) => process.stdout.write(line + "\n") });
    exitOnSignals(log, starting);
    await starting.catch((err: Error) => {
      console.error(`orchestrator: ${err.message}`); // one line, e.g. a cluster key that does not match
      process.exit(1);
    });
  },
});

await runMain(main);
