import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { createPodman } from "../sandbox/podman";
import { ensureImage, imageLabels } from "./ensure-image";

describe("ensureImage", () => {
  it("says podman is missing when it cannot run it", async () => {
    const podman = createPodman({ containersConf: "/dev/null", bin: join("/nonexistent", "podman") });
    await expect(imageLabels(podman, "localhost/x:latest")).rejects.toThrow(
      "podman is not usable (apt-get install podman)",
    );
    const stage = async () => {};
    await expect(ensureImage({ podman, image: "x", stage, freshness: "present", log: () => {} })).rejects.toThrow(
      "podman is not usable",
    );
  });
});
