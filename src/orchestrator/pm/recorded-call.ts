/**
 * One tool call of the chat agent, run and recorded (user, thread, tool, capped arguments, outcome, duration).
 * What the model is told: the result as JSON, or the refusal — a gateway check's problem (its status and detail,
 * exactly as the route answers it) or a bad call — so the model can say why.
 */
import { ProblemError } from "../../lib/http-problem";
import type { Logger } from "../../lib/log";
import { recordToolCall } from "../db/chat-tool-calls";
import { domainProblem } from "../http-errors";
import { runTool, ToolRefusal, type ToolContext } from "./tools";

/** Characters of a tool result the model is shown. */
export const MAX_TOOL_RESULT_CHARS = 16_000;

function refusal(err: unknown): { status?: number; error: string } | undefined {
  if (err instanceof ToolRefusal) return { error: err.message };
  const problem = err instanceof ProblemError ? err : domainProblem(err);
  return problem && { status: problem.status, error: problem.detail ?? "refused" };
}

export async function recordedCall(
  c: ToolContext & { threadId: string | null; log: Logger },
  name: string,
  args: unknown,
): Promise<string> {
  const started = performance.now();
  let told: unknown;
  let error: string | undefined;
  try {
    told = await runTool(c, name, args);
  } catch (err) {
    const refused = refusal(err);
    if (!refused) c.log.error("chat agent: tool failed", { tool: name, error: err });
    told = refused ?? { error: "internal error" };
    error = refused ? `${refused.status ?? ""} ${refused.error}`.trim() : "internal error";
  }
  await recordToolCall(c.tasks.db, {
    userId: c.user.id,
    threadId: c.threadId,
    tool: name,
    arguments: args,
    outcome: error === undefined ? "ok" : "error",
    error,
    durationMs: performance.now() - started,
  });
  return JSON.stringify(told).slice(0, MAX_TOOL_RESULT_CHARS);
}
