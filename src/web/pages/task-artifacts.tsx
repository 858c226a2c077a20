/** What a task's jobs left in `/job/artifacts`: listed once the task ended, each downloaded with the session's token. */
import { USER_API } from "../../contracts/routes";
import type { TaskFileView } from "../../contracts/task-files";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded } from "../use-async";

/** The file saved by the browser: fetched with the bearer token (never in a URL), handed over as a blob. */
async function download(session: GatewaySession, taskId: string, name: string) {
  const res = await session.open({ route: USER_API.taskArtifact, params: { id: taskId, name } });
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function ArtifactRow({ session, taskId, file }: { session: GatewaySession; taskId: string; file: TaskFileView }) {
  const save = useAction(() => download(session, taskId, file.name));
  return (
    <li>
      <span>{file.name}</span>
      <span class="hint">
        {file.size_bytes} bytes · {file.content_type}
      </span>
      <button type="button" onClick={() => void save.run()} disabled={save.busy}>
        {`Download ${file.name}`}
      </button>
      {save.error && <span role="alert">{save.error}</span>}
    </li>
  );
}

export function TaskArtifacts({ session, taskId }: { session: GatewaySession; taskId: string }) {
  const list = useLoaded(
    (signal) => session.send({ route: USER_API.taskArtifacts, params: { id: taskId }, signal }),
    [taskId],
  );
  if (list.error) return <p role="alert">{list.error}</p>;
  if (!list.value?.artifacts.length) return null;
  return (
    <section aria-label="Artifacts">
      <h2>Artifacts</h2>
      <ul class="list">
        {list.value.artifacts.map((f) => (
          <ArtifactRow key={f.name} session={session} taskId={taskId} file={f} />
        ))}
      </ul>
    </section>
  );
}
