/** Log in with a handle and password; the tokens stay in the session's memory. */
import { useState } from "preact/hooks";
import type { GatewaySession } from "../gateway-session";
import { useAction } from "../use-async";
import { ActionForm } from "../action-form";

export function LoginPage({ session }: { session: GatewaySession }) {
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const login = useAction(() => session.login(handle, password));
  return (
    <section class="card narrow">
      <h1>CyNodeAI console</h1>
      <ActionForm action={login} submit="Log in">
        <label>
          Handle
          <input
            name="handle"
            autocomplete="username"
            required
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
      </ActionForm>
    </section>
  );
}
