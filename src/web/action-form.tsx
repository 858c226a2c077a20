/** A form that runs one action: submitting runs it, its button waits while it runs, and its error shows below. */
import type { ComponentChildren } from "preact";

type Action = { busy: boolean; error?: string; run: () => Promise<void> };

export function ActionForm(props: {
  action: Action;
  /** The submit button's text. */
  submit: string;
  /** Holds the button even when the action is idle (nothing to act on yet). */
  disabled?: boolean;
  children: ComponentChildren;
}) {
  const { action } = props;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void action.run();
      }}
    >
      {props.children}
      <button type="submit" disabled={action.busy || props.disabled === true}>
        {props.submit}
      </button>
      {action.error && <p role="alert">{action.error}</p>}
    </form>
  );
}
