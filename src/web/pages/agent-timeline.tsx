/** An agent's steps in order: each model turn and tool call with its status, arguments, output and timing. */
import type { SbaResult } from "../../contracts/sba";
import { StatusText } from "./status-text";

export function AgentTimeline({ record }: { record: SbaResult }) {
  return (
    <section aria-label="Agent steps">
      <h2>
        Agent steps <StatusText status={record.status} />
      </h2>
      {record.failure_message && <p role="alert">{record.failure_message}</p>}
      <ol class="timeline">
        {record.steps.map((s) => (
          <li key={s.index}>
            <div class="row">
              <strong>{s.kind === "model_turn" ? `model ${s.model ?? ""}` : (s.tool ?? s.type)}</strong>
              <StatusText status={s.status} />
              {s.duration_ms !== undefined && <span class="hint">{s.duration_ms} ms</span>}
            </div>
            {s.arguments && <pre>{s.arguments}</pre>}
            {s.output && <pre>{s.output}</pre>}
            {s.error && <pre class="error">{s.error}</pre>}
          </li>
        ))}
      </ol>
      {record.final_answer && (
        <>
          <h2>Final answer</h2>
          <pre>{record.final_answer}</pre>
        </>
      )}
    </section>
  );
}
