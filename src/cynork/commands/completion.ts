/** `cynork completion bash|zsh|fish`: a shell completion script generated from the command tree. */
import { type ArgsDef, type CommandDef, defineCommand } from "citty";
import { type CommandInfo, listCommands } from "../command-tree";
import type { Ctx } from "../context";
import { usageError } from "../errors";
import { parseFlags } from "../flags";

const SHELLS = ["bash", "zsh", "fish"] as const;

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

export function completionCommand(ctx: Ctx, root: CommandDef<any>) {
  const args = { shell: { type: "positional", description: SHELLS.join(", ") } } satisfies ArgsDef;
  return defineCommand({
    meta: { name: "completion", description: "Print a shell completion script (bash, zsh or fish)" },
    args,
    async run({ rawArgs }) {
      const [shell] = parseFlags(rawArgs, args).positionals;
      if (!(SHELLS as readonly string[]).includes(shell!))
        throw usageError(`shell must be one of ${SHELLS.join(", ")}`);
      const infos = await listCommands(root);
      const script =
        shell === "fish"
          ? fish(infos)
          : shell === "zsh"
            ? `#compdef cynork\nautoload -U +X bashcompinit && bashcompinit\n${bash(infos)}`
            : bash(infos);
      ctx.print({ shell, script }, { streams: ["script", "none"] });
    },
  });
}
