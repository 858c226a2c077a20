/** A page's card: its heading, then what it failed to load (when it did), then its content. */
import type { ComponentChildren } from "preact";

export function PageCard({ title, error, children }: { title: string; error?: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h1>{title}</h1>
      {error && <p role="alert">{error}</p>}
      {children}
    </section>
  );
}
