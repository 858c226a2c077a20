import { describe, expect, it } from "bun:test";
import { chooseModel, relayChat } from "./model-chat";

describe("the agent's model", () => {
  it("is the first allowed model the node serves; name and name:latest are one model", () => {
    expect(chooseModel(["a:1", "b", "c:2"], ["c:2", "b:latest"])).toBe("b");
    expect(chooseModel(["x:latest"], ["x"])).toBe("x:latest");
    expect(chooseModel(["a:1"], ["a:2"])).toBeUndefined();
  });

  it("is asked nothing while the node runs no inference", async () => {
    const chat = relayChat(() => undefined);
    await expect(chat.models()).rejects.toThrow("inference is not running on this node");
  });
});
