/** What podman holds of this run's nodes: every sandbox and pod carries `cynodeai.node=<slug>`, ours end in the run id. */
import { RUN_ID } from "./worker-node-process";

type Listed = {
  Names?: string[] | string;
  Name?: string;
  Labels?: Record<string, string> | null;
  Pod?: string;
  PodName?: string;
};

async function podmanJson(args: string[]): Promise<Listed[]> {
  const proc = Bun.spawn(["podman", ...args, "--format", "json"], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`podman ${args.join(" ")} failed: ${err}`);
  return (JSON.parse(out || "[]") as Listed[] | null) ?? [];
}

const ours = (x: Listed) => (x.Labels?.["cynodeai.node"] ?? "").endsWith(`-${RUN_ID}`);

export async function leftoverSandboxes(): Promise<string[]> {
  const containers = (await podmanJson(["ps", "--all"])).filter(ours);
  const podsOfOurs = new Set(containers.map((c) => c.Pod).filter(Boolean));
  const pods = (await podmanJson(["pod", "ps"])).filter((p) => ours(p) || podsOfOurs.has((p as { Id?: string }).Id));
  return [...containers.map((c) => `container ${[c.Names].flat().join(",")}`), ...pods.map((p) => `pod ${p.Name}`)];
}

/** Names of the containers (any state) labelled with this task id. */
export async function taskContainers(taskId: string): Promise<string[]> {
  return (await podmanJson(["ps", "--all", "--filter", `label=cynodeai.task_id=${taskId}`])).map((c) =>
    [c.Names].flat().join(","),
  );
}
