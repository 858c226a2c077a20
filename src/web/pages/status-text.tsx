/** A task's or job's status as a word (what a screen reader reads and a test finds), coloured by its class. */
export const StatusText = ({ status }: { status: string }) => <span class={`status status-${status}`}>{status}</span>;
