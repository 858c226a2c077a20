/** Skills: the Markdown that steers agents (yours, and the global ones), added, read and deleted here. */
import { useState } from "preact/hooks";
import { USER_API } from "../../contracts/routes";
import type { SkillMeta } from "../../contracts/skills";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded } from "../use-async";
import { ActionForm } from "../action-form";
import { LabeledInput } from "../labeled-input";
import { PageCard } from "../page-card";

function SkillRow({ skill, session, changed }: { skill: SkillMeta; session: GatewaySession; changed: () => void }) {
  const [content, setContent] = useState<string>();
  const show = useAction(async () => {
    const body = await session.send({ route: USER_API.skill, params: { id: skill.id } });
    setContent(content === undefined ? body.content : undefined);
  });
  const remove = useAction(async () => {
    await session.send({ route: USER_API.deleteSkill, params: { id: skill.id } });
    changed();
  });
  return (
    <li>
      <strong>{skill.name}</strong>
      <span class="hint">
        {skill.scope} · {new Date(skill.updated_at).toLocaleString()}
      </span>
      <button type="button" aria-expanded={content !== undefined} onClick={() => void show.run()}>
        {`Read ${skill.name}`}
      </button>
      <button type="button" onClick={() => void remove.run()} disabled={remove.busy}>
        {`Delete ${skill.name}`}
      </button>
      {content !== undefined && <pre>{content}</pre>}
      {(show.error || remove.error) && <span role="alert">{show.error ?? remove.error}</span>}
    </li>
  );
}

export function SkillsPage({ session }: { session: GatewaySession }) {
  const skills = useLoaded((signal) => session.send({ route: USER_API.listSkills, signal }), []);
  const [name, setName] = useState("");
  const [content, setContent] = useState("");
  const add = useAction(async () => {
    await session.send({ route: USER_API.loadSkill, body: { name: name.trim() || null, content } });
    setName("");
    setContent("");
    skills.reload();
  });
  return (
    <PageCard title="Skills" error={skills.error}>
      {skills.value && skills.value.skills.length === 0 && <p>No skills.</p>}
      <ul class="list" aria-label="Skills">
        {skills.value?.skills.map((s) => (
          <SkillRow key={s.id} skill={s} session={session} changed={skills.reload} />
        ))}
      </ul>
      <h2>New skill</h2>
      <ActionForm action={add} submit="Add skill">
        <LabeledInput label="Skill name" value={name} onValue={setName} />
        <label>
          Skill content (Markdown)
          <textarea required rows={6} value={content} onInput={(e) => setContent(e.currentTarget.value)} />
        </label>
      </ActionForm>
    </PageCard>
  );
}
