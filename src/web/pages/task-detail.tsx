/**
 * One task: its status (long-polled on the result route until it ends), its output (the logs route while it runs, the
 * result once it ended), its artifacts, an agent's steps, and cancel.
 */
import { jobOutput } from "../../contracts/job-result";
import { USER_API } from "../../contracts/routes";
import { TERMINAL_TASK_STATUSES, type TaskResultResponse } from "../../contracts/user-api";
import { agentRecord } from "../agent-steps";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded, usePolling } from "../use-async";
import { AgentTimeline } from "./agent-timeline";
import { StatusText } from "./status-text";
import { TaskArtifacts } from "./task-artifacts";

const WAIT_S = 25;
const LOGS_MS = 1_000;

const ended = (r: TaskResultResponse | undefined) => r !== undefined && TERMINAL_TASK_STATUSES.includes(r.status);

function Output({ stdout, stderr }: { stdout: string; stderr: string }) {
  return (
    <>
      <section aria-label="Output">
        <h2>Output</h2>
        <pre>{stdout}</pre>
      </section>
      {stderr && (
        <section aria-label="Errors">
          <h2>Errors</h2>
          <pre class="error">{stderr}</pre>
        </section>
      )}
    </>
  );
}

export function TaskDetailPage({ session, id }: { session: GatewaySession; id: string }) {
  const task = useLoaded((signal) => session.send({ route: USER_API.task, params: { id }, signal }), [id]);
  const result = usePolling(
    async (signal) => {
      const r = await session.send({ route: USER_API.taskResult, params: { id }, query: { wait: WAIT_S }, signal });
      return ended(r) ? { done: true as const, value: r } : r;
    },
    1,
    [id],
  );
  const done = ended(result.value);
  const logs = usePolling(
    (signal) => session.send({ route: USER_API.taskLogs, params: { id }, query: { stream: "all" }, signal }),
    done ? 0 : LOGS_MS,
    [id, done],
  );
  const cancel = useAction(async () => {
    await session.send({ route: USER_API.cancelTask, params: { id } });
    result.reload();
  });
  const job = result.value?.jobs[0];
  const record = agentRecord(job?.result);
  const output = done ? jobOutput(job?.result) : (logs.value ?? { stdout: "", stderr: "" });
  return (
    <section class="card">
      <div class="row">
        <h1>{task.value?.task_name || "Task"}</h1>
        {result.value && <StatusText status={result.value.status} />}
      </div>
      <p class="hint">{id}</p>
      {task.value?.prompt && <pre>{task.value.prompt}</pre>}
      {(task.error || result.error) && <p role="alert">{task.error ?? result.error}</p>}
      {result.value && !done && (
        <button type="button" onClick={() => void cancel.run()} disabled={cancel.busy}>
          Cancel
        </button>
      )}
      {cancel.error && <p role="alert">{cancel.error}</p>}
      <Output stdout={output.stdout} stderr={output.stderr} />
      {done && <TaskArtifacts session={session} taskId={id} />}
      {record && <AgentTimeline record={record} />}
    </section>
  );
}
