// The command line's words before commander parses them: which command they are for (`run` when none is
// named), `help <command>`, a mistyped command (`angel stauts 1234`: did you mean `angel status 1234`?) and a
// program given without `--` before it (`angel node -e …`), each a one-line usage error rather than a program
// of that name started (exit 127) or its options taken for angel's.
import type { Command, Option } from 'commander';
import { CommandLineError, oneLine, truncate } from '../core/errors.js';
import { closest } from '../core/suggest.js';

/** What the words of one command may be. */
interface CommandWords {
  /** Its flags that take the next word as their value, long and short. */
  readonly takesValue: ReadonlySet<string>;
  /** Every flag it knows, switches too. */
  readonly known: ReadonlySet<string>;
  /** Its program comes after `--` (run, check, bench); the others take words of their own (status's pid). */
  readonly program: boolean;
}

const PROGRAM_COMMANDS: ReadonlySet<string> = new Set(['run', 'check', 'bench']);
const HELP_WORDS: ReadonlySet<string> = new Set(['help', '-h', '--help']);
const VERSION_WORDS: ReadonlySet<string> = new Set(['-V', '--version']);

/** The words each command of `cli` takes, from its commander options. */
export function grammarOf(cli: Command): ReadonlyMap<string, CommandWords> {
  const flagsOf = (options: readonly Option[]): string[] =>
    options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => flag !== undefined));
  return new Map(cli.commands.map((command) => {
    const valued = command.options.filter((option) => option.required || option.optional);
    const words = { takesValue: new Set(flagsOf(valued)), known: new Set([...flagsOf(command.options), '-h', '--help']), program: PROGRAM_COMMANDS.has(command.name()) };
    return [command.name(), words];
  }));
}

/** An angel command line as a shell would take it back, in backquotes: plain words bare, the rest in single
 * quotes. */
function shown(words: readonly string[]): string {
  const quoted = words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`));
  return `\`${truncate(oneLine(['angel', ...quoted].join(' ')))}\``;
}

/** Where a word before `--` is the program's: the index, or -1 when there is none (or an option commander
 * must report comes first). */
function programWithoutDashes(words: readonly string[], grammar: CommandWords): number {
  for (let at = 1; at < words.length; at++) {
    const word = words[at] as string;
    if (word === '--') return -1;
    if (!word.startsWith('-') || word === '-') return at;
    if (grammar.takesValue.has(word)) at++;
    else if (!grammar.known.has(word.split('=')[0] as string) && !grammar.takesValue.has(word.slice(0, 2))) return -1;
  }
  return -1;
}

/** The command `args` are for (`run` when none is named, help's command for `help <command>`), from the commands'
 * names alone, so that it can be asked before the commands have their options: null for the version, or for
 * `help` with a word that names none. */
export function commandNamed(args: readonly string[], names: ReadonlySet<string>): string | null {
  const [first = '', second] = args;
  if (HELP_WORDS.has(first)) return first !== 'help' || second === undefined ? 'run' : names.has(second) ? second : null;
  if (args.length === 0) return 'run';
  if (VERSION_WORDS.has(first)) return null;
  return names.has(first) ? first : 'run';
}

/** The words with the command named (`run` by default), or a CommandLineError saying what was meant. */
export function commandWords(args: readonly string[], grammar: ReadonlyMap<string, CommandWords>): string[] {
  const names = [...grammar.keys(), 'help'];
  const [first = '', second = ''] = args;
  const named = commandNamed(args, new Set(grammar.keys()));
  if (HELP_WORDS.has(first)) {
    if (named !== null) return [named, '--help'];
    const meant = closest(second, names);
    throw new CommandLineError(second, `unknown command "${oneLine(second)}" for help${meant ? `: did you mean ${shown(['help', meant])}?` : ''} (commands: ${names.join(', ')})`);
  }
  if (named === null) return [...args]; // the version
  if (args.length === 0) return ['run'];
  if (named !== first && !first.startsWith('-')) {
    const meant = closest(first, names);
    if (meant !== null) {
      throw new CommandLineError(first, `unknown command "${oneLine(first)}": did you mean ${shown([meant, ...args.slice(1)])}? (a program to run goes after --: ${shown(['--', ...args])})`);
    }
  }
  const words = named === first ? [...args] : ['run', ...args];
  const command = grammar.get(words[0] as string);
  const at = command?.program ? programWithoutDashes(words, command) : -1;
  if (at >= 0) {
    const meant = [...words.slice(words[0] === first ? 0 : 1, at), '--', ...words.slice(at)];
    throw new CommandLineError(words[at] as string, `missing -- before the program: ${shown(meant)} (what follows -- is the program's own, never angel's)`);
  }
  return words;
}

/** Past this many words after the program, they are kept from commander, which spreads them into one call
 * (`unknown.push(...args)`) and overflows the stack at about 100,000: they are the program's, and join its
 * arguments after the parse. */
const SET_ASIDE_PAST = 10_000;

/** The program's own words past SET_ASIDE_PAST, taken out of `words` (after `--` and the program); a `--` that
 * is an option's value (`--env --`) does not count. */
export function setAside(words: string[], grammar: ReadonlyMap<string, CommandWords>): string[] {
  const takesValue = new Set([...grammar.values()].flatMap((command) => [...command.takesValue]));
  for (let at = 1; at < words.length; at++) {
    const word = words[at] as string;
    if (word === '--') return words.length - (at + 2) > SET_ASIDE_PAST ? words.splice(at + 2) : [];
    if (takesValue.has(word)) at++;
  }
  return [];
}
