/** The user's tasks, newest first, with a status filter; statuses refresh every two seconds. */
import { useState } from "preact/hooks";
import { USER_API } from "../../contracts/routes";
import { TASK_STATUSES } from "../../contracts/user-api";
import type { GatewaySession } from "../gateway-session";
import { hrefOf } from "../hash-route";
import { usePolling } from "../use-async";
import { StatusText } from "./status-text";

const REFRESH_MS = 2_000;

export function TasksPage({ session }: { session: GatewaySession }) {
  const [status, setStatus] = useState("");
  const tasks = usePolling(
    (signal) =>
      session.send({ route: USER_API.listTasks, query: { status: status || undefined, limit: "50" }, signal }),
    REFRESH_MS,
    [status],
  );
  return (
    <section class="card">
      <div class="row">
        <h1>Tasks</h1>
        <a class="button" href={hrefOf({ name: "new-task" })}>
          New task
        </a>
      </div>
      <label for="task-status">Status</label>
      <select id="task-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
        <option value="">all</option>
        {TASK_STATUSES.map((s) => (
          <option value={s}>{s}</option>
        ))}
      </select>
      {tasks.error && <p role="alert">{tasks.error}</p>}
      {tasks.value && tasks.value.tasks.length === 0 && <p>No tasks.</p>}
      <ul class="list" aria-label="Tasks">
        {tasks.value?.tasks.map((t) => (
          <li key={t.id}>
            <a href={hrefOf({ name: "task", id: t.id })}>{t.task_name || t.prompt?.slice(0, 60) || t.id}</a>
            <StatusText status={t.status} />
            <time dateTime={t.created_at}>{new Date(t.created_at).toLocaleString()}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}
