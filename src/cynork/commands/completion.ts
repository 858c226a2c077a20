/** `cynork completion bash|zsh|fish`: a shell completion script generated from the command tree. */
import type { ArgsDef } from "citty";
import { type CynorkCommand, defineCynorkCommand, loadCommand } from "../command";
import { usageError } from "../errors";

const SHELLS = ["bash", "zsh", "fish"] as const;

type CommandInfo = { path: string[]; subCommands: string[]; flags: { long: string[]; short: string[] }[] };

/** Every command under `cmd`, depth first, with its sub-command names and flags. */
async function listCommands(cmd: CynorkCommand, path: string[] = []): Promise<CommandInfo[]> {
  const subs = cmd.subCommands ?? {};
  const args: ArgsDef = cmd.args ?? {};
  const flags = Object.entries(args)
    .filter(([, d]) => d.type !== "positional")
    .map(([name, d]) => {
      const aliases = "alias" in d && d.alias !== undefined ? [d.alias].flat() : [];
      return { long: [name, ...aliases.filter((a) => a.length > 1)], short: aliases.filter((a) => a.length === 1) };
    });
  const infos: CommandInfo[] = [{ path, subCommands: Object.keys(subs), flags }];
  for (const [name, sub] of Object.entries(subs))
    infos.push(...(await listCommands(await loadCommand(sub), [...path, name])));
  return infos;
}

function words(info: CommandInfo, globals: CommandInfo): string {
  const flags = [...info.flags, ...(info.path.length ? globals.flags : [])];
  return [
    ...info.subCommands,
    ...flags.flatMap((f) => [...f.long.map((l) => `--${l}`), ...f.short.map((s) => `-${s}`)]),
  ].join(" ");
}

function bash(infos: CommandInfo[]): string {
  const cases = infos.map((i) => `    "${i.path.join(" ")}") opts="${words(i, infos[0]!)}" ;;`).join("\n");
  return `# cynork bash completion: source <(cynork completion bash)
_cynork() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w opts=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _cynork cynork
`;
}

function fish(infos: CommandInfo[]): string {
  const lines = ["# cynork fish completion: cynork completion fish | source", "complete -c cynork -f"];
  for (const info of infos) {
    const cond = info.path.length ? `__fish_seen_subcommand_from ${info.path.at(-1)}` : "__fish_use_subcommand";
    if (info.subCommands.length) lines.push(`complete -c cynork -n '${cond}' -a '${info.subCommands.join(" ")}'`);
    for (const f of info.flags) {
      const opts = [...f.long.map((l) => `-l ${l}`), ...f.short.map((s) => `-s ${s}`)].join(" ");
      lines.push(info.path.length ? `complete -c cynork -n '${cond}' ${opts}` : `complete -c cynork ${opts}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export default defineCynorkCommand({
  meta: { name: "completion", description: "Print a shell completion script (bash, zsh or fish)" },
  args: { shell: { type: "positional", description: SHELLS.join(", ") } },
  async run({ positionals: [shell] }, ctx) {
    if (!(SHELLS as readonly string[]).includes(shell!)) throw usageError(`shell must be one of ${SHELLS.join(", ")}`);
    const infos = await listCommands(ctx.root);
    const script =
      shell === "fish"
        ? fish(infos)
        : shell === "zsh"
          ? `#compdef cynork\nautoload -U +X bashcompinit && bashcompinit\n${bash(infos)}`
          : bash(infos);
    ctx.print({ shell, script }, { streams: ["script", "none"] });
  },
});
