/**
 * TEST DOUBLE script for agent tasks (features/e2e/agent.feature): a goal holding AGENT_GOAL_MARKER makes the Ollama
 * test double answer like a model that writes a script, runs it, reads what it wrote and answers quoting it. The
 * command counts the sandbox's network interfaces (one: loopback only, the sandbox has no network).
 */

export const AGENT_GOAL_MARKER = "[bdd-agent: count the interfaces]";
export const AGENT_GOAL = `Count the network interfaces of your sandbox ${AGENT_GOAL_MARKER}`;
export const COUNT_COMMAND = "cat /sys/class/net/*/ifindex | wc -l";
/** The final answer's text before the quoted file contents. */
export const ANSWER_PREFIX = "Interfaces in the sandbox:";
/** The tools the script calls, in order. */
export const SCRIPTED_TOOLS = ["write_file", "run_command", "read_file"];

type Message = { role?: string; content?: string };
type Turn =
  | { content?: string; tool_calls?: { name: string; arguments: unknown }[] }
  | ((messages: Message[]) => { content: string });

const turns: Turn[] = [
  { tool_calls: [{ name: "write_file", arguments: { path: "/workspace/count.sh", content: `${COUNT_COMMAND}\n` } }] },
  {
    tool_calls: [
      { name: "run_command", arguments: { argv: ["sh", "-c", "sh count.sh | tee interfaces.txt"], cwd: "/workspace" } },
    ],
  },
  { tool_calls: [{ name: "read_file", arguments: { path: "/workspace/interfaces.txt" } }] },
  (messages) => ({
    content: `${ANSWER_PREFIX} ${messages.findLast((m) => m.role === "tool")?.content?.trim() ?? "(no tool output)"}`,
  }),
];

/**
 * An agent that reads its attachment and hands back a report: the attachment's line count, then the attachment
 * (so the report is known from what was attached: REPORT_OF).
 */
export const REPORT_GOAL_MARKER = "[bdd-agent: report on data.csv]";
export const REPORT_GOAL = `Report on the attached data.csv ${REPORT_GOAL_MARKER}`;
export const REPORT_NAME = "report.txt";
const REPORT_COMMAND = `{ wc -l <data.csv; cat data.csv; } >"$CYNODE_ARTIFACTS_DIR/${REPORT_NAME}"`;
/** The report the scripted agent writes from the attachment's bytes. */
export const REPORT_OF = (csv: Uint8Array) =>
  Buffer.concat([Buffer.from(`${csv.filter((b) => b === 10).length}\n`), csv]);

const reportTurns: Turn[] = [
  { tool_calls: [{ name: "read_file", arguments: { path: "data.csv" } }] },
  { tool_calls: [{ name: "run_command", arguments: { argv: ["sh", "-c", REPORT_COMMAND] } }] },
  { content: `The report is in ${REPORT_NAME}.` },
];

/** Options for startOllamaTestServer: spread in, so the double's `scripts` option is all this needs of it. */
export const AGENT_SCRIPT_OPTIONS = { scripts: { [AGENT_GOAL_MARKER]: turns, [REPORT_GOAL_MARKER]: reportTurns } };
