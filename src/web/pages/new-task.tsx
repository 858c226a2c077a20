/** A new task: commands (one per line), a script, a prompt for the model, or an agent's goal (`use_sba`). */
import { useState } from "preact/hooks";
import { USER_API } from "../../contracts/routes";
import { FILE_PART, TASK_PART } from "../../contracts/task-files";
import type { CreateTaskRequest } from "../../contracts/user-api";
import type { GatewaySession } from "../gateway-session";
import { hrefOf } from "../hash-route";
import { useAction } from "../use-async";
import { ActionForm } from "../action-form";

const KINDS = {
  commands: { label: "Command", hint: "One shell command per line, run in the task's sandbox." },
  script: { label: "Script", hint: "A shell script, run in the task's sandbox." },
  prompt: { label: "Prompt", hint: "A prompt for the model." },
  agent: { label: "Goal", hint: "What the agent should do, with tools in the task's sandbox." },
} as const;
type Kind = keyof typeof KINDS;

function request(kind: Kind, text: string, name: string, inference: boolean): CreateTaskRequest {
  const named = name.trim() ? { task_name: name.trim() } : {};
  if (kind === "agent") return { prompt: text, input_mode: "prompt", use_sba: true, ...named };
  return {
    prompt: text,
    input_mode: kind,
    ...named,
    ...(inference && kind !== "prompt" ? { use_inference: true } : {}),
  };
}

/** The task as multipart/form-data with its files (each lands in the job's `/workspace` under its name). */
function withFiles(body: CreateTaskRequest, files: File[]): FormData {
  const form = new FormData();
  form.set(TASK_PART, JSON.stringify({ ...body, attachments: files.map((f) => f.name) }));
  for (const file of files) form.append(FILE_PART, file, file.name);
  return form;
}

export function NewTaskPage({ session }: { session: GatewaySession }) {
  const [kind, setKind] = useState<Kind>("commands");
  const [text, setText] = useState("");
  const [name, setName] = useState("");
  const [inference, setInference] = useState(false);
  const [files, setFiles] = useState<File[]>([]);
  const create = useAction(async () => {
    const body = request(kind, text, name, inference);
    const route = USER_API.createTask;
    const task = await session.send(files.length ? { route, form: withFiles(body, files) } : { route, body });
    location.hash = hrefOf({ name: "task", id: task.id });
  });
  return (
    <section class="card">
      <h1>New task</h1>
      <ActionForm action={create} submit="Run">
        <label for="task-kind">Kind</label>
        <select id="task-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          <option value="commands">Commands</option>
          <option value="script">Script</option>
          <option value="prompt">Prompt (model)</option>
          <option value="agent">Agent</option>
        </select>
        <label>
          {KINDS[kind].label}
          <textarea required rows={6} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <p class="hint">{KINDS[kind].hint}</p>
        <label>
          Name (optional)
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Attach files
          <input type="file" multiple onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])} />
        </label>
        {(kind === "commands" || kind === "script") && (
          <label class="check">
            <input type="checkbox" checked={inference} onChange={(e) => setInference(e.currentTarget.checked)} />
            Give the sandbox the model (use inference)
          </label>
        )}
      </ActionForm>
    </section>
  );
}
