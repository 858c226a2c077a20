/** The chat agent's threads (`cynodeai.pm`): pick one to read and continue, or start a new one. */
import type { Thread, ThreadMessages } from "../../contracts/chat-agent";
import { USER_API } from "../../contracts/routes";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded } from "../use-async";

export type Turn = { role: "user" | "assistant"; content: string };

const label = (t: Thread) => t.title || `Thread of ${new Date(t.created_at).toLocaleString()}`;

/** A thread's messages as the conversation shows them (what the user said and the agent answered). */
export const turnsOf = (messages: ThreadMessages): Turn[] =>
  messages.data.flatMap((m) =>
    m.role === "user" || m.role === "assistant" ? [{ role: m.role, content: m.content }] : [],
  );

export function ThreadPicker(props: {
  session: GatewaySession;
  threadId?: string;
  /** Bumped by the page when a chat may have made a thread. */
  generation: number;
  onPick: (threadId: string, turns: Turn[]) => void;
}) {
  const { session, threadId, onPick } = props;
  const threads = useLoaded((signal) => session.send({ route: USER_API.listThreads, signal }), [props.generation]);
  const pick = useAction(async (id: string) => {
    onPick(id, turnsOf(await session.send({ route: USER_API.threadMessages, params: { id } })));
  });
  const create = useAction(async () => {
    const thread = await session.send({ route: USER_API.createThread, body: {} });
    onPick(thread.id, []);
    threads.reload();
  });
  return (
    <div class="row">
      <label for="chat-thread">Thread</label>
      <select id="chat-thread" value={threadId ?? ""} onChange={(e) => void pick.run(e.currentTarget.value)}>
        <option value="" disabled>
          (your active thread)
        </option>
        {threads.value?.data.map((t) => (
          <option value={t.id}>{label(t)}</option>
        ))}
      </select>
      <button type="button" onClick={() => void create.run()} disabled={create.busy}>
        New thread
      </button>
      {(threads.error || pick.error || create.error) && (
        <span role="alert">{threads.error ?? pick.error ?? create.error}</span>
      )}
    </div>
  );
}
