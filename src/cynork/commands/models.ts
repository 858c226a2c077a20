/** `cynork models …`: the models the gateway offers (GET /v1/models). */
import { defineCommand } from "citty";
import type { Ctx } from "../context";
import { listModelsCommand } from "./models/list";

export function modelsCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "models", description: "List available models (GET /v1/models)" },
    subCommands: { list: () => listModelsCommand(ctx) },
  });
}
