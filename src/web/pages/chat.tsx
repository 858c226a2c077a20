/**
 * Chat with a model the gateway lists; the answer streams in over SSE. With the chat agent (`cynodeai.pm`) the
 * conversation is a thread kept by the gateway: only the new message is sent, and earlier threads can be reopened.
 */
import { useState } from "preact/hooks";
import { PM_MODEL, THREAD_HEADER } from "../../contracts/chat-agent";
import type { ChatCompletionRequest } from "../../contracts/openai";
import { USER_API } from "../../contracts/routes";
import { chatDeltas } from "../../lib/chat-deltas";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded } from "../use-async";
import { ThreadPicker, type Turn } from "./chat-threads";
import { ActionForm } from "../action-form";
import { PageCard } from "../page-card";

function Conversation({ turns }: { turns: Turn[] }) {
  return (
    <ol class="chat" aria-label="Conversation" aria-live="polite">
      {turns.map((t, i) => (
        <li key={i} class={`turn turn-${t.role}`}>
          <span class="hint">{t.role === "user" ? "You" : "Model"}</span>
          <div>{t.content}</div>
        </li>
      ))}
    </ol>
  );
}

export function ChatPage({ session }: { session: GatewaySession }) {
  const models = useLoaded((signal) => session.send({ route: USER_API.models, signal }), []);
  const [model, setModel] = useState("");
  const [message, setMessage] = useState("");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [threadId, setThreadId] = useState<string>();
  const [generation, setGeneration] = useState(0);
  const chosen = model || models.value?.data[0]?.id;
  const agent = chosen === PM_MODEL;
  const send = useAction(async () => {
    const asked: Turn[] = [...turns, { role: "user", content: message }];
    setTurns([...asked, { role: "assistant", content: "" }]);
    setMessage("");
    // The agent's thread holds the conversation; a plain model is sent all of it.
    const messages = agent ? asked.slice(-1) : asked;
    const body: ChatCompletionRequest = { model: chosen, messages, stream: true };
    const headers = agent && threadId ? { [THREAD_HEADER]: threadId } : undefined;
    const res = await session.open({ route: USER_API.chatCompletions, body, headers });
    if (agent) setThreadId(res.headers.get(THREAD_HEADER) ?? threadId);
    let answer = "";
    for await (const piece of chatDeltas(res.body!, (m) => new Error(m))) {
      answer += piece;
      setTurns([...asked, { role: "assistant", content: answer }]);
    }
    setGeneration((g) => g + 1);
  });
  return (
    <PageCard title="Chat" error={models.error}>
      <label for="chat-model">Model</label>
      <select id="chat-model" value={chosen} onChange={(e) => setModel(e.currentTarget.value)}>
        {models.value?.data.map((m) => (
          <option value={m.id}>{m.id}</option>
        ))}
      </select>
      {agent && (
        <ThreadPicker
          session={session}
          threadId={threadId}
          generation={generation}
          onPick={(id, shown) => {
            setThreadId(id);
            setTurns(shown);
          }}
        />
      )}
      <Conversation turns={turns} />
      <ActionForm action={send} submit="Send" disabled={!chosen}>
        <label>
          Message
          <textarea required rows={3} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
      </ActionForm>
    </PageCard>
  );
}
