/** Log in with a handle and password; the tokens stay in the session's memory. */
import { useState } from "preact/hooks";
import type { GatewaySession } from "../gateway-session";
import { useAction } from "../use-async";
import { ActionForm } from "../action-form";
import { LabeledInput } from "../labeled-input";

export function LoginPage({ session }: { session: GatewaySession }) {
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const login = useAction(() => session.login(handle, password));
  return (
    <section class="card narrow">
      <h1>CyNodeAI console</h1>
      <ActionForm action={login} submit="Log in">
        <LabeledInput
          label="Handle"
          name="handle"
          autocomplete="username"
          required
          value={handle}
          onValue={setHandle}
        />
        <LabeledInput
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
      </ActionForm>
    </section>
  );
}
