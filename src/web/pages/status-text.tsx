/** Statuses as words (what a screen reader reads and a test finds), coloured by their class. */

/** A task's or job's status. */
export const StatusText = ({ status }: { status: string }) => <span class={`status status-${status}`}>{status}</span>;

/** A yes-or-no state (a node live, a user active): its word, coloured as a completed task when on, as `off` when not. */
export const OnOffText = ({ on, words, off }: { on: boolean; words: [on: string, off: string]; off: string }) => (
  <span class={`status status-${on ? "completed" : off}`}>{on ? words[0] : words[1]}</span>
);
