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

/** Options for startOllamaTestServer: spread in, so the double's `scripts` option is all this needs of it. */
export const AGENT_SCRIPT_OPTIONS = { scripts: { [AGENT_GOAL_MARKER]: turns } };
