/**
 * The chat agent's system message (reference-agents 2.4: instructions, then the project's context): who it is, how
 * it works (tasks through tools, never pretending a tool ran), the skills the user can load, the chat's project.
 */
import type { Skill } from "../db/schema";

const ROLE = [
  "You are CyNodeAI's project manager agent. You act for the user through tools: you create tasks, follow them",
  "and answer with their results. To run a shell command, create a task with input_mode 'commands' and the command",
  "as the prompt, then call task_result with wait_seconds to wait for its output. Never claim a tool ran unless it",
  "did; quote task output exactly. Answer briefly once you have what the user asked for.",
].join("\n");

export function systemMessage(o: { skills: Skill[]; projectId: string | null }): string {
  const system = o.skills.filter((s) => s.is_system);
  const others = o.skills.filter((s) => !s.is_system).map((s) => `- ${s.name}`);
  return [
    ROLE,
    ...system.map((s) => s.content),
    ...(others.length ? [`## Skills (read one with skills_get)\n${others.join("\n")}`] : []),
    ...(o.projectId ? [`## Project context\nproject_id: ${o.projectId}`] : []),
  ].join("\n\n");
}
