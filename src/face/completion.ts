// `angel completion bash|zsh`: the shell's completion script, made from the commands and options the CLI has
// (commander's, which come from the option table), so it never lags a new flag. Commands as the first word;
// each command's flags; a flag's value by its kind (files, directories, users, groups, the table's choices);
// after `--` the program (a command name) and then its own arguments, completed as that program's.
import type { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { OPTIONS } from '../core/options.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

export function shellOf(value: string): Shell {
  if ((SHELLS as readonly string[]).includes(value)) return value as Shell;
  throw new UsageError('<shell>', value, `expected ${SHELLS.join(' or ')}`);
}

type Kind = 'file' | 'dir' | 'user' | 'group' | 'other';
type ValueKind = { kind: Kind } | { kind: 'choices'; words: readonly string[] };

interface Flag {
  readonly names: readonly string[];
  readonly help: string;
  /** null: a switch. */
  readonly value: ValueKind | null;
  readonly repeatable: boolean;
}

interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly Flag[];
  /** What its words other than flags are: a program after `--`, or a list to choose from, or anything. */
  readonly operands: 'program' | { words: readonly string[] } | 'other';
}

const CHOICES: ReadonlyMap<string, readonly string[]> = new Map(OPTIONS.flatMap((row) => ('choices' in row && row.choices ? [[row.flag, row.choices] as const] : [])));
const REPEATABLE: ReadonlySet<string> = new Set(OPTIONS.filter((row) => 'repeatable' in row && row.repeatable).map((row) => row.flag));
const KINDS: Readonly<Record<string, Kind>> = { file: 'file', path: 'file', dir: 'dir', user: 'user', group: 'group' };

function valueOf(option: Option): ValueKind | null {
  if (!option.required && !option.optional) return null;
  const choices = CHOICES.get(option.long ?? '');
  if (choices) return { kind: 'choices', words: choices };
  return { kind: KINDS[/<([^>]+)>/.exec(option.flags)?.[1] ?? ''] ?? 'other' };
}

/** The commands, their flags and operands, from commander's definitions, and `help <command>`. */
function specsOf(cli: Command): CommandSpec[] {
  const names = [...cli.commands.map((command) => command.name()), 'help'];
  const help: CommandSpec = { name: 'help', summary: 'a command\'s help', flags: [], operands: { words: names } };
  return [...cli.commands.map((command): CommandSpec => ({
    name: command.name(),
    summary: command.summary() || command.description().split(/[.:]/)[0] || '',
    flags: command.options.map((option) => ({
      names: [option.long, option.short].filter((name): name is string => name !== undefined),
      help: option.description.split(/[;(]/)[0]?.trim() ?? '',
      value: valueOf(option),
      repeatable: REPEATABLE.has(option.long ?? ''),
    })),
    operands: command.name() === 'completion' ? { words: SHELLS } : command.registeredArguments.some((argument) => argument.name() === 'program') ? 'program' : 'other',
  })), help];
}

const shellWords = (words: readonly string[]): string => words.join(' ');

function bashValue(value: ValueKind): string {
  switch (value.kind) {
    case 'file': return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
    case 'dir': return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))';
    case 'user': return 'COMPREPLY=($(compgen -u -- "$cur"))';
    case 'group': return 'COMPREPLY=($(compgen -g -- "$cur"))';
    case 'choices': return `COMPREPLY=($(compgen -W '${shellWords(value.words)}' -- "$cur"))`;
    case 'other': return 'COMPREPLY=()';
  }
}

function bash(specs: readonly CommandSpec[]): string {
  const names = specs.map((spec) => spec.name);
  // a flag's value is completed the same way whatever the command: the flags they share mean the same
  const byValue = new Map<string, Set<string>>();
  for (const flag of specs.flatMap((spec) => spec.flags)) {
    if (flag.value === null) continue;
    const action = bashValue(flag.value);
    for (const name of flag.names) byValue.set(action, (byValue.get(action) ?? new Set()).add(name));
  }
  const values = [...byValue].map(([action, flags]) => `    ${[...flags].join('|')}) ${action}; return ;;`);
  const operands = (spec: CommandSpec): string => {
    const flags = shellWords(spec.flags.flatMap((flag) => flag.names).filter((name) => name.startsWith('--')));
    const words = typeof spec.operands === 'object' ? ` ${shellWords(spec.operands.words)}` : '';
    const dashes = spec.operands === 'program' ? ' --' : '';
    return `    ${spec.name}) COMPREPLY=($(compgen -W '${flags} --help${dashes}${words}' -- "$cur")) ;;`;
  };
  return `# bash completion for angel, made by \`angel completion bash\` from angel's own options; \`angel help completion\`
# says where it goes.
_angel() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command=run i=1
  case \${COMP_WORDS[1]} in
    ${names.join('|')}) command=\${COMP_WORDS[1]}; i=2 ;;
  esac
  for ((; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i]} == -- ]] || continue
    # the program, then its own arguments, as its own completion has them where bash-completion is loaded
    if declare -F _command_offset >/dev/null; then _command_offset $((i + 1)); return; fi
    if ((COMP_CWORD == i + 1)); then COMPREPLY=($(compgen -c -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
    return
  done
  case $prev in
${values.join('\n')}
  esac
  if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then COMPREPLY=($(compgen -W '${shellWords(names)}' -- "$cur")); return; fi
  case $command in
${specs.map(operands).join('\n')}
  esac
}
complete -F _angel angel
`;
}

/** Text inside a zsh `_arguments` spec's [description] and single quotes. */
const zshText = (text: string): string => text.replace(/[\\[\]:]/g, (char) => `\\${char}`).replace(/'/g, `'\\''`);

function zshValue(value: ValueKind): string {
  switch (value.kind) {
    case 'file': return ':file:_files';
    case 'dir': return ':directory:_files -/';
    case 'user': return ':user:_users';
    case 'group': return ':group:_groups';
    case 'choices': return `:value:(${value.words.map((word) => word.replace(/:/g, '\\:')).join(' ')})`;
    case 'other': return ':value: ';
  }
}

function zsh(specs: readonly CommandSpec[]): string {
  const spec = (flag: Flag): string[] => flag.names.map((name) =>
    `'${flag.repeatable ? '*' : ''}${name}[${zshText(flag.help)}]${flag.value === null ? '' : zshValue(flag.value)}'`);
  const operands = (command: CommandSpec): string => {
    // after `--` it is the program's line (handled before _arguments, whose -S would keep the `--` in it)
    if (command.operands === 'program') return `'1:the program goes after:(--)'`;
    if (typeof command.operands === 'object') return `'1:${command.name === 'help' ? 'command' : 'shell'}:(${command.operands.words.join(' ')})'`;
    return `'*:: : '`;
  };
  const cases = specs.map((command) => `    ${command.name}) _arguments -S \\\n      ${[...command.flags.flatMap(spec), operands(command)].join(' \\\n      ')} ;;`);
  return `#compdef angel
# zsh completion for angel, made by \`angel completion zsh\` from angel's own options; \`angel help completion\`
# says where it goes.
_angel() {
  local -a subcommands=(
${specs.map((command) => `    '${command.name}:${command.summary.replace(/'/g, `'\\''`)}'`).join('\n')}
  )
  # after --: the program, then its own arguments as its own completion has them
  local dashes=\${words[(i)--]}
  if (( dashes < CURRENT )); then
    shift $dashes words
    (( CURRENT -= dashes ))
    if (( CURRENT == 1 )); then _command_names -e; else _normal; fi
    return
  fi
  local command=run
  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then
    _describe -t commands 'angel command' subcommands
    return
  fi
  if (( \${subcommands[(I)$words[2]:*]} )); then
    command=$words[2]
    shift words
    (( CURRENT-- ))
  fi
  case $command in
${cases.join('\n')}
  esac
}
if [[ "$funcstack[1]" == _angel ]]; then _angel "$@"; else compdef _angel angel; fi
`;
}

/** The completion script of `shell` for the commands of `cli`. */
export function completionScript(shell: Shell, cli: Command): string {
  const specs = specsOf(cli);
  return shell === 'bash' ? bash(specs) : zsh(specs);
}
