/**
 * TEST DOUBLE scripts for the chat agent (`cynodeai.pm`), for the Ollama test double's `chatAgentScripts`: a model
 * that runs a command as a task and answers with its output, and one that looks at a task by id.
 */
import type { ChatAgentMessage, ChatAgentTurn } from "./ollama-test-server";

export const ECHO_REQUEST = "run echo hi in a sandbox and tell me the output";
export const ECHO_ANSWER_PREFIX = "The command printed:";
/** A message holding this then a task id makes the model call task_get on that id and report what it was told. */
export const PEEK_MARKER = "[pm-script: peek]";
export const PEEK_ANSWER_PREFIX = "task_get said:";

const lastTool = (messages: ChatAgentMessage[]) => JSON.parse(messages.findLast((m) => m.role === "tool")!.content!);

const echo: ChatAgentTurn[] = [
  { tool_calls: [{ name: "task_create", arguments: { prompt: "echo hi", input_mode: "commands" } }] },
  (messages) => ({
    tool_calls: [{ name: "task_result", arguments: { task_id: lastTool(messages).task_id, wait_seconds: 60 } }],
  }),
  (messages) => ({ content: `${ECHO_ANSWER_PREFIX} ${lastTool(messages).jobs[0].stdout.trim()}` }),
];

const peek: ChatAgentTurn[] = [
  (messages) => {
    const said = messages.findLast((m) => m.role === "user")!.content!;
    return { tool_calls: [{ name: "task_get", arguments: { task_id: said.split(PEEK_MARKER)[1]!.trim() } }] };
  },
  (messages) => ({ content: `${PEEK_ANSWER_PREFIX} ${JSON.stringify(lastTool(messages))}` }),
];

/** A message holding this makes the model fail on its first turn (the double answers 500). */
export const FAIL_MARKER = "[pm-script: fail]";
const fail: ChatAgentTurn[] = [{ error: "the scripted model failed" }];

export const CHAT_AGENT_SCRIPTS = { [ECHO_REQUEST]: echo, [PEEK_MARKER]: peek, [FAIL_MARKER]: fail };
