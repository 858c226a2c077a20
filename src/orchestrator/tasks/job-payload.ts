/** The sandbox spec a new task's job runs, by input mode (decision 7): prompts ask the model, scripts run `sh -c`. */
import type { InputMode } from "../../contracts/user-api";
import type { SandboxSpec } from "../../contracts/worker-api";

export type JobDefaults = { sandboxImage: string; inferenceModel: string };

export function jobPayloadFor(
  req: { prompt: string; mode: InputMode; useInference?: boolean },
  d: JobDefaults,
): SandboxSpec {
  if (req.mode === "prompt")
    return {
      image: d.sandboxImage,
      command: ["cynode-prompt"],
      env: { CYNODE_PROMPT: req.prompt, CYNODE_INFERENCE_MODEL: d.inferenceModel },
      use_inference: true,
    };
  return {
    image: d.sandboxImage,
    command: ["sh", "-c", req.prompt],
    ...(req.useInference ? { use_inference: true } : {}),
  };
}

/** Task names: lowercase, runs of anything but [a-z0-9] become one dash, no leading/trailing dash. */
export function normalizeTaskName(name: string | undefined): string {
  return (name ?? "")
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 100)
    .replace(/-+$/, "");
}
