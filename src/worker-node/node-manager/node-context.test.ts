import { describe, expect, it } from "bun:test";
import { everyInterval } from "./node-context";
import { until } from "../../testing/until";

describe("everyInterval", () => {
  it("runs the function on its interval until stopped", async () => {
    let runs = 0;
    const stop = everyInterval(5, () => runs++);
    await until(() => runs >= 2, "two runs", { intervalMs: 5 });
    stop();
    const after = runs;
    await Bun.sleep(30);
    expect(runs).toBe(after);
  });
});
