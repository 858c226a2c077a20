/** `cynork task artifacts list <id|name>`: what the task's jobs left in /job/artifacts, one line per file. */
import { defineCynorkCommand } from "../../../command";
import { ARTIFACT_LINE } from "./download";

export default defineCynorkCommand({
  meta: { name: "list", description: "List a task's artifacts (name, size, sha256, content type)" },
  args: { task: { type: "positional", description: "task id or name" } },
  run: async ({ positionals: [id] }, ctx) =>
    ctx.print(await ctx.authedClient().taskArtifacts(id!), { ...ARTIFACT_LINE, rows: "artifacts" }),
});
