/**
 * The cynork command tree. Groups are declared here; each command lives in its own file under commands/ and is
 * loaded only when it is named (or listed by help or completion), so a start-up reads just the one that runs.
 */
import { VERSION } from "../lib/version";
import type { CommandEntry, CynorkCommand } from "./command";
import { GLOBAL_ARGS } from "./flags";

const load = (module: Promise<{ default: CynorkCommand }>) => module.then((m) => m.default);

const group = (name: string, description: string, subCommands: Record<string, CommandEntry>): CynorkCommand => ({
  meta: { name, description },
  subCommands,
});

const AUTH = group("auth", "Log in, log out, show or renew the session", {
  login: () => load(import("./commands/auth/login")),
  logout: () => load(import("./commands/auth/logout")),
  whoami: () => load(import("./commands/auth/whoami")),
  refresh: () => load(import("./commands/auth/refresh")),
});

const TASK = group("task", "Create, list, inspect and cancel tasks", {
  create: () => load(import("./commands/task/create")),
  list: () => load(import("./commands/task/list")),
  get: () => load(import("./commands/task/get")),
  result: () => load(import("./commands/task/result")),
  cancel: () => load(import("./commands/task/cancel")),
  logs: () => load(import("./commands/task/logs")),
  watch: () => load(import("./commands/task/watch")),
  artifacts: group("artifacts", "List and download what a task's jobs left in /job/artifacts", {
    list: () => load(import("./commands/task/artifacts/list")),
    get: () => load(import("./commands/task/artifacts/get")),
  }),
});

const USERS = group("users", "Manage users (admin): create, list, disable, enable, reset a password", {
  create: () => load(import("./commands/users/create")),
  list: () => load(import("./commands/users/list")),
  disable: () => load(import("./commands/users/disable")),
  enable: () => load(import("./commands/users/enable")),
  "reset-password": () => load(import("./commands/users/reset-password")),
});

const NODES = group("nodes", "Worker nodes (admin): list them, reset one's identity", {
  list: () => load(import("./commands/nodes/list")),
  reset: () => load(import("./commands/nodes/reset")),
});

const SKILLS = group("skills", "Manage skills: list, get, load, update, delete", {
  list: () => load(import("./commands/skills/list")),
  get: () => load(import("./commands/skills/get")),
  load: () => load(import("./commands/skills/load")),
  update: () => load(import("./commands/skills/update")),
  delete: () => load(import("./commands/skills/delete")),
});

export const ROOT: CynorkCommand = {
  meta: { name: "cynork", version: VERSION, description: "Command-line client for the CyNodeAI user gateway" },
  args: GLOBAL_ARGS,
  subCommands: {
    version: () => load(import("./commands/version")),
    status: () => load(import("./commands/status")),
    auth: AUTH,
    task: TASK,
    users: USERS,
    nodes: NODES,
    skills: SKILLS,
    models: group("models", "List available models (GET /v1/models)", {
      list: () => load(import("./commands/models/list")),
    }),
    chat: () => load(import("./commands/chat")),
    completion: () => load(import("./commands/completion")),
  },
};
