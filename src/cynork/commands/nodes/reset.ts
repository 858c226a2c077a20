/**
 * `cynork nodes reset <slug>` (admin): the node's key is forgotten and its tokens end, so the next registration of
 * the slug with the PSK binds it again (a node whose state dir was lost rejoins so). Asks first unless `-y`; as
 * `task cancel`, without a terminal `-y` is required and its absence is a usage error, never a silent exit 0.
 */
import { defineCynorkCommand } from "../../command";
import { confirmed, requireTerminal, confirmingArgs } from "../../confirm";
import { usageError } from "../../errors";
import { NODE_LINE } from "./node-line";

export default defineCynorkCommand({
  meta: {
    name: "reset",
    description: "Forget a node's key so its next registration binds again (admin; asks first, -y otherwise)",
  },
  args: confirmingArgs("node", "node slug"),
  async run(flags, ctx) {
    const [slug] = flags.positionals;
    if (!slug) throw usageError("a node slug is required");
    const ask = !flags.bool("yes");
    if (ask) requireTerminal(ctx.io, `not resetting node ${slug}`);
    const client = ctx.authedClient();
    const question = `Reset node ${slug}? Any holder of the registration PSK can then bind it.`;
    if (ask && !(await confirmed(ctx.io, question, `node ${slug} not reset`))) return;
    ctx.print(await client.resetNode(slug), NODE_LINE);
  },
});
