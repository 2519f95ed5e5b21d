#!/usr/bin/env node
// `angel [run] [options] -- <program> [args...]`, `angel check --config <file>` and `angel bench … -- <program>`.
// Reads as the algorithm: parse, resolve (usage errors exit 2 in one line), log, supervise, exit with the
// child's status.
import { inspectorGuarded } from './inspector.js';
import { Command, CommanderError } from 'commander';
import { mergeOptions } from '../core/config.js';
import {
  EXIT_NOT_EXECUTABLE, EXIT_USAGE, exitStatusForSpawnError, oneLine, PermissionError, SpawnError, StatusError, truncate, UsageError,
} from '../core/errors.js';
import { isPercent, showCap } from '../core/memory.js';
import { changedFixedOption, FLAGS, resolveOptions, showOptions, type ResolvedOptions } from '../core/options.js';
import { createSupervisor } from '../driver/assemble.js';
import { addonLoadError, checkLaunch, checkWithoutAddon, lockedProgram, prepareLaunch, readConfigFile, startingUser, type StartingUser } from '../driver/launch.js';
import { becomeUser } from '../driver/outside.js';
import type { Supervisor } from '../driver/supervisor.js';
import { addBenchOptions, BENCH_HELP, benchSettings } from './bench-flags.js';
import { addRunOptions, flagOptions, type Flags } from './flags.js';
import { COMPLETION_HELP, HELP_AFTER } from './help.js';
import { StatusBoard, VERSION } from './board.js';
import { openControlSocket } from './control.js';
import { serveMetrics } from './monitoring.js';
import { attachEventLog, createEventLog } from './log.js';
import { speakToManager } from './manager.js';
import { installSignalHandlers } from './signals.js';
import { writeTerminationLog } from './termination.js';
import { commandNamed, commandWords, grammarOf, setAside } from './words.js';

/** Who angel acts for when it is root for someone else (rootrule.ts), or null. Such an angel must have been
 * started by its command, bin/angel, which keeps Node's inspector shut (inspector.ts): started as `node
 * cli.js`, the user's SIGUSR1 could have opened it already, and it is refused at once. */
function actingFor(): StartingUser | null {
  const forUser = startingUser();
  if (forUser !== null && !inspectorGuarded()) {
    throw new PermissionError(`angel runs as root for ${forUser.name} without its command's guard: Node would open its inspector on that user's SIGUSR1; run the angel command (bin/angel), not node with its script`);
  }
  return forUser;
}

async function run(program: string | undefined, args: string[], flags: Flags): Promise<number> {
  const forUser = actingFor();
  // the CLI is a child subreaper, and as PID 1 the reaper anyway: no orphan of the child's escapes or lingers
  const supervisor = createSupervisor(resolveFlags(flags, program, args, forUser), forUser, { subreaper: true });
  const { options } = supervisor;
  installSignalHandlers(supervisor, { beforeReload: () => rereadFiles(supervisor, flags, program, args, forUser) });
  const file = options.logEvents === 'stderr' ? null : supervisor.logWriter();
  const log = createEventLog({ format: options.logFormat, level: options.logLevel, stderr: options.logEvents !== 'file', file });
  const drainEventLog = attachEventLog(supervisor, log, options.logLevel);
  const board = new StatusBoard(supervisor);
  openControlSocket(supervisor, board);
  speakToManager(supervisor, board);
  writeTerminationLog(supervisor, options.terminationLog, forUser);
  if (options.metrics) await serveMetrics(supervisor, board, options.metrics, forUser);
  supervisor.start();
  const status = await supervisor.done;
  const { close } = await log;
  drainEventLog(); // every event is handed to pino, then written, in order, before angel exits
  await close(1000);
  return status;
}

function resolveFlags(flags: Flags, program: string | undefined, args: string[], forUser: StartingUser | null): ResolvedOptions {
  const file = flags.config === undefined ? null : readConfigFile(flags.config, forUser);
  const { options, origins } = mergeOptions(file, flagOptions(flags, program, args));
  return resolveOptions(options, origins);
}

/** SIGHUP re-reads the config file and the --env-file files first, with every check a start makes; a bad one,
 * or a config that changes what is fixed at start (the user, the sockets, the log file), is reported and
 * changes nothing: the child keeps running. */
function rereadFiles(supervisor: Supervisor, flags: Flags, program: string | undefined, args: string[], forUser: StartingUser | null): boolean {
  if (flags.config === undefined && supervisor.options.envFile.length === 0) return true;
  const reject = (why: string): false => {
    supervisor.emit('warning', { message: `reload: ${flags.config ?? 'the --env-file files'} rejected, nothing changed: ${why}` });
    return false;
  };
  try {
    const options = resolveFlags(flags, program, args, forUser);
    const fixed = changedFixedOption(supervisor.options, options);
    if (fixed !== null) return reject(`${fixed} cannot change while angel runs (${FLAGS[fixed]}: restart angel to change it)`);
    supervisor.updateLaunch(prepareLaunch(options, forUser));
    return true;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof PermissionError || error instanceof SpawnError)) throw error;
    return reject(error.message);
  }
}

/** `angel bench`: the same options as run, and the bench's own; the run itself is bench.ts's. */
async function runBench(program: string | undefined, args: string[], flags: Flags): Promise<number> {
  const forUser = actingFor();
  const options = resolveFlags(flags, program, args, forUser);
  const settings = benchSettings(flags, forUser);
  // loaded only for a bench: `angel run` keeps neither its reports nor its progress bar in memory
  const { bench } = await import('./bench.js');
  return bench(options, forUser, settings);
}

/** Every check `run` makes before it starts the program, with the same words and status, and nothing started:
 * then the resolved options. Without the addon (a machine it was not built for) what needs it is left out,
 * and said so. */
function check(program: string | undefined, args: string[], flags: Flags): number {
  const forUser = actingFor();
  const options = resolveFlags(flags, program, args, forUser);
  const unloadable = addonLoadError();
  if (unloadable !== null) {
    process.stderr.write(`angel: not checked without the native addon, which a run needs: the user, group, lock, root rule and log file (${oneLine(unloadable)})\n`);
  }
  // a percentage is resolved as a start resolves it, against the limit of the cgroup angel runs in (or the
  // machine's memory, where none is set)
  const resolvedCap = unloadable === null ? checkLaunch(options, forUser) : checkWithoutAddon(options);
  const cap = isPercent(options.maxMem) ? resolvedCap : null;
  if (cap?.source === 'machine') process.stderr.write(`angel: warning: --max-mem ${cap.capBytes} bytes is ${showCap(options.maxMem)} of the machine's memory: no memory limit is set on angel's cgroup or above it\n`);
  const resolved = cap === null ? {} : { capBytes: cap.capBytes, capOf: cap.source };
  process.stdout.write(`${JSON.stringify({ ...showOptions(options), ...resolved }, null, 2)}\n`);
  return 0;
}

function fail(error: unknown): never {
  // each message can quote a path as given, which may hold a line break
  if (error instanceof UsageError) {
    process.stderr.write(`angel: ${oneLine(error.message)}\n`);
    process.exit(EXIT_USAGE);
  }
  if (error instanceof PermissionError) {
    process.stderr.write(`angel: ${oneLine(error.message)}\n`);
    process.exit(EXIT_NOT_EXECUTABLE);
  }
  if (error instanceof StatusError) {
    process.stderr.write(`angel: status: ${oneLine(error.message)}\n`);
    process.exit(1);
  }
  if (error instanceof SpawnError) {
    // the program was not found while checking the root rule: the same status its spawn would give
    process.stderr.write(`angel: ${oneLine(error.message)}\n`);
    process.exit(exitStatusForSpawnError(error));
  }
  // Anything else is a bug in angel, not bad input (which is a UsageError where it is read): its stack is what
  // finds the bug, so it is not turned into a tidy line.
  throw error;
}

/** commander's message as one line: its own line breaks folded, an unknown option as typed escaped and cut. */
function commanderLine(message: string): string {
  return truncate(oneLine(message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')));
}

/** What --version prints; it loads the addon (a locked build says so), which nothing else before a run needs. */
function versionText(): string {
  const locked = lockedProgram();
  return `angel ${VERSION} (${locked === null ? 'not locked' : `locked to ${locked}`})`;
}

/** The program's arguments kept from commander (words.ts's setAside), joined to those it parsed. */
let aside: string[] = [];

/** How each command reads in the list `angel --help` and `angel help` show: its name and its usage. */
const listedAs = (command: Command): string => `${command.name()} ${command.usage()}`;

async function main(argv: string[]): Promise<void> {
  const first = argv[2];
  const cli = new Command('angel')
    .description('Supervise one program: limits before exec, a memory cap on its process tree, restarts')
    .version(first === '-V' || first === '--version' ? versionText() : VERSION)
    // the root's own options (--version) only before the command: after it every word is the command's
    .enablePositionalOptions()
    .helpCommand('help [command]', 'a command\'s help and its options (angel help check)')
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`angel: ${commanderLine(message)}\n`) });

  let status = 0;
  const runCommand = cli.command('run', { isDefault: true })
    .summary('supervise the program (the default command: angel [options] -- <program> [args...])')
    .description('Supervise one program: limits before exec, a memory cap on its whole process tree, restarts.\n'
      + '`run` is the default command: `angel [options] -- <program> [args...]`; the other commands are listed below.')
    .usage('[options] -- <program> [args...]')
    .argument('[program]', 'the program to run')
    .argument('[args...]', 'its arguments')
    // what `angel --help` shows: run's options, then angel's commands and -V, then the examples
    .configureHelp({ showGlobalOptions: true, visibleCommands: () => cli.createHelp().visibleCommands(cli), subcommandTerm: listedAs })
    .addHelpText('after', HELP_AFTER)
    .exitOverride()
    .action(async (program: string | undefined, args: string[], flags: Flags) => {
      status = await run(program, [...args, ...aside], flags);
    });
  const checkCommand = cli.command('check')
    .summary('every check a run makes before it starts the program, nothing started; the resolved options')
    .description('Make every check a run makes before it starts the program (options, config, user and group, working '
      + 'directory, log file, program on PATH, root rule, lock, and, as the child\'s user, its working directory, program, '
      + 'script and interpreter), starting and binding nothing, and print the resolved options. Exit 0, or the status '
      + 'the run would have: 2, 126, 127.')
    .usage('[options] [-- <program> [args...]]')
    .argument('[program]', 'the program to check')
    .argument('[args...]', 'its arguments')
    .exitOverride()
    .action((program: string | undefined, args: string[], flags: Flags) => {
      status = check(program, [...args, ...aside], flags);
    });

  const benchCommand = cli.command('bench')
    .summary('time its start, crash restart, reload, stop and peak memory, as hyperfine times commands')
    .description('Time the lifecycle of a program as it will be run: start, crash restart, reload, stop, peak memory.')
    .usage('[options] -- <program> [args...]')
    .argument('[program]', 'the program to measure')
    .argument('[args...]', 'its arguments')
    .addHelpText('after', BENCH_HELP)
    .exitOverride()
    .action(async (program: string | undefined, args: string[], flags: Flags) => {
      status = await runBench(program, [...args, ...aside], flags);
    });

  cli.command('status')
    .summary('a summary of a running angel, by its pid or its --metrics address')
    .description('a summary of a running angel: by its pid (its control socket), or by its --metrics address')
    .usage('<pid> | --metrics <addr> [--json]')
    .argument('[pid]', 'the pid of an angel')
    .option('--metrics <addr>', 'read the angel serving /metrics here instead ([host:]port or unix:/path)')
    .option('--json', 'the report as JSON')
    .exitOverride()
    .action(async (pid: string | undefined, flags: { metrics?: string; json?: boolean }) => {
      // root for someone else reads nothing as root: it becomes that user first
      const forUser = actingFor();
      if (forUser !== null) becomeUser(forUser);
      // loaded only for `angel status`: its HTTP and socket clients and the exposition parser
      const { status: statusCommand } = await import('./status.js');
      status = await statusCommand(pid, flags);
    });

  cli.command('completion')
    .summary('the completion script for bash or zsh (see the README\'s Shell completion)')
    .description('The completion script of angel\'s commands and options for a shell, on stdout.')
    .usage('bash|zsh')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', `\nInstall:${COMPLETION_HELP}`)
    .exitOverride()
    .action(async (shell: string) => {
      // loaded only for `angel completion`
      const { completionScript, shellOf } = await import('./completion.js');
      process.stdout.write(completionScript(shellOf(shell), cli));
    });

  // Options only where they are read: on the command the words name, or on every command where the completion
  // script lists them. run, check and bench share run's 43; defined on all three at every launch, two of the
  // sets were built before the first spawn for nothing (0.3 ms each in a profile of the launch).
  const named = commandNamed(argv.slice(2), new Set(cli.commands.map((command) => command.name())));
  const defines = (command: Command): boolean => named === command.name() || named === 'completion';
  for (const command of [runCommand, checkCommand, benchCommand]) if (defines(command)) addRunOptions(command);
  if (defines(benchCommand)) addBenchOptions(benchCommand);

  try {
    const grammar = grammarOf(cli);
    const words = commandWords(argv.slice(2), grammar);
    aside = setAside(words, grammar);
    await cli.parseAsync(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    fail(error);
  }
  process.exit(status);
}

void main(process.argv);
