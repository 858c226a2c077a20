/** Each server mounts exactly the routes its table declares (src/contracts/routes.ts), with their methods. */
import { describe, expect, it } from "bun:test";
import type { AnyRoute } from "../contracts/route";
import { CONTROL_PLANE_API, USER_API, WORKER_API } from "../contracts/routes";
import { documentedApps } from "./api-apps";

const TABLES: Record<keyof ReturnType<typeof documentedApps>, Record<string, AnyRoute>> = {
  gateway: USER_API,
  controlPlane: CONTROL_PLANE_API,
  workerApi: WORKER_API,
};

describe("the route tables", () => {
  const apps = documentedApps();
  for (const name of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
    it(`${name}: mounts every route of its table and nothing else`, () => {
      const mounted = new Set(apps[name].routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
      const declared = new Set(Object.values(TABLES[name]).map((r) => `${r.method} ${r.pattern}`));
      expect([...mounted].sort()).toEqual([...declared].sort());
    });
  }
});
