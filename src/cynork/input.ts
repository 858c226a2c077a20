/** Reading the user's stdin: lines for prompts, all of it for `--password-stdin`, and a no-echo secret on a TTY. */
import { CliError, EXIT } from "./errors";

export type Input = {
  isTTY: boolean;
  /** The next line without its `\n` / `\r\n`; undefined at end of input. */
  readLine(): Promise<string | undefined>;
  readAll(): Promise<string>;
  /** A line typed without echo on a TTY (raw mode); a plain line otherwise. */
  readSecret(onEnd: () => void): Promise<string | undefined>;
};

export type SecretState = { text: string; done: boolean };

/** Applies raw-mode keystrokes: Enter ends, Backspace deletes, Ctrl+C / Ctrl+D abort. */
export function applySecretKeys(state: SecretState, keys: string): SecretState {
  let text = state.text;
  for (const ch of keys) {
    if (ch === "\r" || ch === "\n") return { text, done: true };
    if (ch === "\u0003" || ch === "\u0004") throw new CliError(EXIT.usage, "password entry aborted");
    if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
    else if (ch >= " ") text += ch;
  }
  return { text, done: false };
}

export function createInput(
  chunks: AsyncIterable<Uint8Array | string>,
  isTTY: boolean,
  setRawMode?: (on: boolean) => void,
): Input {
  // Opened on first read: most commands never touch stdin, and a TTY should not be read ahead.
  let iterator: AsyncIterator<Uint8Array | string> | undefined;
  const decoder = new TextDecoder();
  let buffered = "";
  let ended = false;
  const pull = async (): Promise<boolean> => {
    if (ended) return false;
    iterator ??= chunks[Symbol.asyncIterator]();
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      buffered += decoder.decode();
      return false;
    }
    buffered += typeof next.value === "string" ? next.value : decoder.decode(next.value, { stream: true });
    return true;
  };
  const readLine = async (): Promise<string | undefined> => {
    while (!buffered.includes("\n") && (await pull()));
    if (buffered === "" && ended) return undefined;
    const nl = buffered.indexOf("\n");
    const line = nl < 0 ? buffered : buffered.slice(0, nl);
    buffered = nl < 0 ? "" : buffered.slice(nl + 1);
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  };
  return {
    isTTY,
    readLine,
    async readAll() {
      while (await pull());
      const all = buffered;
      buffered = "";
      return all;
    },
    async readSecret(onEnd) {
      if (!isTTY || !setRawMode) return readLine();
      setRawMode(true);
      try {
        let state: SecretState = { text: "", done: false };
        for (;;) {
          state = applySecretKeys(state, buffered);
          buffered = "";
          if (state.done || !(await pull())) return state.text;
        }
      } finally {
        setRawMode(false);
        onEnd();
      }
    },
  };
}
