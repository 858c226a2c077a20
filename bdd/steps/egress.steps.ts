/** Restricted egress end to end (features/e2e/egress.feature): test hosts on loopback, the orchestrator's policy. */
import { Given, Then, When } from "@cucumber/cucumber";
import { expect } from "bun:test";
import type { EgressAttempt } from "../../src/contracts/egress";
import { startEgressTestHosts, type EgressTestHosts } from "../../src/testing/egress-test-hosts";
import { startOrchestrator } from "../support/orchestrator-process";
import { featureScope } from "../support/world";
import { cynork, type CliWorld } from "./cynork.steps";

type EgressWorld = CliWorld & { hosts?: EgressTestHosts; refusedHitsBefore?: number };

/** A name the task lists whose address (127.0.0.1) it does not: the node checks the address, not only the name. */
const unlisted = (h: EgressTestHosts) => `localhost:${h.http.split(":")[1]}`;

Given("egress test hosts on this machine's loopback", async function (this: EgressWorld) {
  this.hosts = await featureScope.shared("egress test hosts", async () => {
    const hosts = await startEgressTestHosts();
    return { value: hosts, stop: hosts.stop };
  });
});

Given("an orchestrator whose EGRESS_ALLOWED_HOSTS names the test hosts", async function (this: EgressWorld) {
  const { http, https, refused } = this.hosts!;
  // The policy names every test host; a task lists what it asks for.
  this.orchestrator = await featureScope.shared("orchestrator", async () => {
    const o = await startOrchestrator({
      EGRESS_ALLOWED_HOSTS: [http, https, refused, unlisted(this.hosts!)].join(","),
    });
    return { value: o, stop: o.stop };
  });
});

When(
  "I create with cynork a task allowed the HTTP test host that fetches it, the refused host and an unlisted private address",
  { timeout: 120_000 },
  async function (this: EgressWorld) {
    const h = this.hosts!;
    this.refusedHitsBefore = h.hits.refused;
    const script = [
      `wget -q -O - http://${h.http}/fetched`,
      `wget -q -O - http://${h.refused}/ 2>&1 | grep -o '403 Forbidden' | sed 's/^/refused: /'`,
      `wget -q -O - http://${unlisted(h)}/ 2>&1 | grep -o '403 Forbidden' | sed 's/^/private: /'`,
      'echo "interfaces: $(cat /sys/class/net/*/ifindex | wc -l) $(ls /sys/class/net)"',
    ].join("; ");
    const run = await cynork(this, [
      "-o",
      "json",
      "task",
      "create",
      "--command",
      script,
      "--allow-host",
      h.http,
      "--allow-host",
      unlisted(h),
      "--result",
    ]);
    this.taskId = JSON.parse(run.stdout).task_id;
  },
);

const stdout = (w: CliWorld): string => JSON.parse(w.run!.stdout).stdout;
const egressOf = (w: CliWorld): EgressAttempt[] => JSON.parse(JSON.parse(w.run!.stdout).jobs[0].result).egress;

Then(
  "the task's stdout shows 403 for the refused host and for the unlisted private address",
  function (this: CliWorld) {
    expect(stdout(this)).toContain("refused: 403 Forbidden\nprivate: 403 Forbidden\n");
  },
);
Then("the task's sandbox listed no network interface but lo", function (this: CliWorld) {
  expect(stdout(this)).toContain("interfaces: 1 lo\n");
});
Then("the job's egress record shows the fetch allowed and both others refused", function (this: EgressWorld) {
  const h = this.hosts!;
  const rows = egressOf(this).map((a) => `${a.host}:${a.port} ${a.kind} ${a.decision}`);
  const port = (hp: string) => hp.split(":")[1];
  expect(rows).toEqual([
    `127.0.0.2:${port(h.http)} http allowed`,
    `127.0.0.3:${port(h.refused)} http refused`,
    `localhost:${port(h.http)} http refused`,
  ]);
  expect(egressOf(this)[0]!.bytes_received).toBeGreaterThan(0);
  expect(egressOf(this)[2]!.reason).toBe("127.0.0.1 is a private address that no entry names");
});
Then("the refused test host saw no request", function (this: EgressWorld) {
  expect(this.hosts!.hits.refused).toBe(this.refusedHitsBefore!);
});
