/**
 * A command that carries no script, in an image other than ours, may have no shell to run a launcher: it runs as
 * its argv in one attached `podman run`, its env on podman's command line, its output read until podman exits.
 * Removed after its exit (not `run --rm`, which can deadlock with its own cleanup: podman#29646).
 */
import type { ContainerSpec } from "./container-spec";
import { containerArgs, removeContainersArgs, type Podman } from "./podman";
import { captureText, type Captured } from "./truncate-utf8";

export type AttachedRun = {
  /** stdout, stderr and podman's exit code (125: podman itself failed). */
  done: Promise<{ stdout: Captured; stderr: Captured; exitCode: number }>;
  /** Removes the container (killing it), also when podman has not created it yet. */
  kill(): Promise<void>;
};

export function runAttached(podman: Podman, spec: ContainerSpec, maxOutputBytes: number): AttachedRun {
  const proc = podman.spawn(containerArgs({ ...spec, autoRemove: false }));
  const remove = () => podman.exec(removeContainersArgs([spec.name]));
  const done = Promise.all([
    captureText(proc.stdout, maxOutputBytes),
    captureText(proc.stderr, maxOutputBytes),
    proc.exited,
  ]).then(async ([stdout, stderr, exitCode]) => {
    await remove();
    return { stdout, stderr, exitCode };
  });
  return {
    done,
    async kill() {
      // `podman run` may not have created the container yet: remove until the run has ended.
      for (let attempt = 0; attempt < 50; attempt++) {
        await remove();
        if (await Promise.race([proc.exited.then(() => true), Bun.sleep(200).then(() => false)])) return;
      }
    },
  };
}
