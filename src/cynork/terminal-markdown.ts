/**
 * A model's Markdown for the terminal (`cynork chat` without `--plain`, reference-agents 2.8), one line at a time so
 * a streamed reply renders as it arrives. In colour, headings and strong text are bold and code is cyan; without
 * colour (no TTY, NO_COLOR, --no-color) the same text in ASCII: the markup is removed, list items keep a `-`.
 */
const BOLD = "\u001b[1m";
const CYAN = "\u001b[36m";
const RESET = "\u001b[0m";

/** Renders one line at a time; a line it returns undefined for (a code fence) is not printed. */
export function markdownLines(color: boolean): (line: string) => string | undefined {
  const style = (text: string, on: string) => (color ? `${on}${text}${RESET}` : text);
  const inline = (text: string) =>
    text
      .replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_, a?: string, b?: string) => style(a ?? b ?? "", BOLD))
      .replace(/`([^`]+)`/g, (_, code: string) => style(code, CYAN));
  let inFence = false;
  return (line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return undefined;
    }
    if (inFence) return style(`    ${line}`, CYAN);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) return style(heading[1]!.replace(/\*\*|__|`/g, ""), BOLD);
    const item = /^(\s*)[*+-]\s+(.*)$/.exec(line);
    if (item) return `${item[1]}${color ? "•" : "-"} ${inline(item[2]!)}`;
    return inline(line);
  };
}

/** Takes a reply in pieces as they stream in and writes each completed line rendered; `end` writes the rest. */
export function markdownWriter(write: (s: string) => void, color: boolean) {
  const render = markdownLines(color);
  const emit = (line: string) => {
    const out = render(line);
    if (out !== undefined) write(`${out}\n`);
  };
  let pending = "";
  return {
    write(piece: string): void {
      pending += piece;
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        emit(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    },
    /** The last line, ended with a newline as `--plain` ends the reply with one. */
    end(): void {
      emit(pending);
      pending = "";
    },
  };
}
