/** `cynork auth …`: session commands. */
import { defineCommand } from "citty";
import type { Ctx } from "../context";
import { loginCommand } from "./auth/login";
import { logoutCommand } from "./auth/logout";
import { refreshCommand } from "./auth/refresh";
import { whoamiCommand } from "./auth/whoami";

export function authCommand(ctx: Ctx) {
  return defineCommand({
    meta: { name: "auth", description: "Log in, log out, show or renew the session" },
    subCommands: {
      login: () => loginCommand(ctx),
      logout: () => logoutCommand(ctx),
      whoami: () => whoamiCommand(ctx),
      refresh: () => refreshCommand(ctx),
    },
  });
}
