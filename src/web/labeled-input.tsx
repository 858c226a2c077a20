/** A text input inside its label, holding one piece of a page's state: `value` shown, `onValue` told each edit. */
import type { JSX } from "preact";

type InputAttributes = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "value" | "onInput">;

export function LabeledInput({
  label,
  value,
  onValue,
  ...input
}: InputAttributes & { label: string; value: string; onValue: (value: string) => void }) {
  return (
    <label>
      {label}
      <input {...input} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}
