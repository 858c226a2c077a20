/** `cynork task artifacts get <id|name> [name…] [-O dir]`: downloads the named artifacts (none named: all of them). */
import { mkdir } from "node:fs/promises";
import { defineCynorkCommand } from "../../../command";
import { CliError, EXIT } from "../../../errors";
import { ARTIFACT_LINE, download } from "./download";

export default defineCynorkCommand({
  meta: { name: "get", description: "Download a task's artifacts (all, or those named) into a directory" },
  args: {
    task: { type: "positional", description: "task id or name, then artifact names" },
    "output-dir": { type: "string", alias: "O", description: "directory to write into (default: .)", default: "." },
  },
  restPositionals: true,
  async run(flags, ctx) {
    const [id, ...names] = flags.positionals;
    const client = ctx.authedClient();
    const listing = await client.taskArtifacts(id!);
    const byName = new Map(listing.artifacts.map((a) => [a.name, a]));
    const wanted = names.length ? names : [...byName.keys()];
    const missing = wanted.filter((n) => !byName.has(n));
    if (missing.length) throw new CliError(EXIT.notFound, `no such artifact: ${missing.join(", ")}`);
    const dir = flags.string("output-dir")!;
    await mkdir(dir, { recursive: true });
    const got = [];
    for (const name of wanted) got.push(await download(client, listing.task_id, byName.get(name)!, dir));
    ctx.print({ artifacts: got }, { ...ARTIFACT_LINE, rows: "artifacts" });
  },
});
