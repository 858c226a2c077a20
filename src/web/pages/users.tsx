/** Users (admin): every user, a new one with its password, disable and enable. Others are told it is for admins. */
import { useState } from "preact/hooks";
import { USER_API } from "../../contracts/routes";
import type { UserResponse } from "../../contracts/user-api";
import { adminOnly } from "../admin-only";
import type { GatewaySession } from "../gateway-session";
import { useAction, useLoaded } from "../use-async";
import { ActionForm } from "../action-form";
import { LabeledInput } from "../labeled-input";
import { OnOffText } from "./status-text";
import { PageCard } from "../page-card";

function UserRow({ user, session, changed }: { user: UserResponse; session: GatewaySession; changed: () => void }) {
  const route = user.is_active ? USER_API.disableUser : USER_API.enableUser;
  const toggle = useAction(async () => {
    await session.send({ route, params: { id: user.id } });
    changed();
  });
  return (
    <li>
      <span>{user.handle}</span>
      <OnOffText on={user.is_active} words={["active", "disabled"]} off="canceled" />
      <button type="button" onClick={() => void toggle.run()} disabled={toggle.busy}>
        {user.is_active ? `Disable ${user.handle}` : `Enable ${user.handle}`}
      </button>
      {toggle.error && <span role="alert">{toggle.error}</span>}
    </li>
  );
}

export function UsersPage({ session }: { session: GatewaySession }) {
  const users = useLoaded(
    (signal) => session.send({ route: USER_API.listUsers, signal }).catch(adminOnly("manage users")),
    [],
  );
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const create = useAction(async () => {
    await session.send({ route: USER_API.createUser, body: { handle, password } });
    setHandle("");
    setPassword("");
    users.reload();
  });
  return (
    <PageCard title="Users" error={users.error}>
      <ul class="list" aria-label="Users">
        {users.value?.users.map((u) => (
          <UserRow key={u.id} user={u} session={session} changed={users.reload} />
        ))}
      </ul>
      <h2>New user</h2>
      <ActionForm action={create} submit="Add user">
        <LabeledInput label="New user's handle" required value={handle} onValue={setHandle} />
        <LabeledInput
          label="New user's password"
          required
          type="password"
          autocomplete="new-password"
          value={password}
          onValue={setPassword}
        />
      </ActionForm>
    </PageCard>
  );
}
