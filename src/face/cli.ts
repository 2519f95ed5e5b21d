#!/usr/bin/env node
// `angel [run] [options] -- <program> [args...]` and `angel check --config <file>`.
// Reads as the algorithm: parse, resolve (usage errors exit 2 in one line), log, supervise, exit with the
// child's status.
import { Command, CommanderError, Option } from 'commander';
import { mergeOptions, resolveOptions, type ResolvedOptions } from '../core/config.js';
import { readConfigFile } from '../kernel/configfile.js';
import {
  EXIT_NOT_EXECUTABLE, EXIT_USAGE, exitStatusForSpawnError, oneLine, PermissionError, SpawnError, truncate, UsageError,
} from '../core/errors.js';
import { attachEventLog, createEventLog } from './log.js';
import { prepareLaunch } from '../driver/launch.js';
import { lockedProgram } from '../kernel/lock.js';
import { LogPipe } from '../kernel/logfile.js';
import { startingUser, type StartingUser } from '../kernel/rootrule.js';
import { installSignalHandlers } from './signals.js';
import { bindAll } from '../kernel/sockets.js';
import { Supervisor } from '../driver/supervisor.js';
import type { Options } from '../core/types.js';

const VERSION = '0.1.0';

interface RunFlags {
  config?: string;
  maxMem?: string;
  maxVmem?: string;
  maxFds?: string;
  rlimit: string[];
  sampleInterval?: string;
  overrunSamples?: string;
  restart?: string;
  maxRestarts?: string;
  restartWindow?: string;
  maxRestartDelay?: string;
  killTimeout?: string;
  stopSignal?: string;
  reload?: string;
  user?: string;
  group?: string;
  cwd?: string;
  env: string[];
  clearEnv?: boolean;
  listen: string[];
  socketMode?: string;
  ready?: string;
  readyTimeout?: string;
  logFile?: string;
  logFormat?: string;
  logLevel?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function addRunOptions(command: Command): Command {
  return command
    .option('--config <file>', 'the same keys (camelCase) from a JSON file; flags override it')
    .option('--max-mem <size>', 'cap on RSS summed over the child\'s process tree; overrun -> stop, restart')
    .option('--max-vmem <size>', 'RLIMIT_AS (soft = hard) in the child before exec')
    .option('--max-fds <n>', 'RLIMIT_NOFILE (soft = hard) in the child before exec')
    .option('--rlimit <name=soft[:hard]>', 'any other rlimit, repeatable', collect, [])
    .option('--sample-interval <ms>', 'RSS sampling period (default 100)')
    .option('--overrun-samples <n>', 'consecutive samples over the cap that make an overrun (default 1)')
    .option('--restart <policy>', 'on-failure | always | never (default on-failure)')
    .option('--max-restarts <n>', 'more restarts than n in the window: give up (default 10)')
    .option('--restart-window <s>', 'the crash-loop window in seconds (default 60)')
    .option('--max-restart-delay <ms>', 'the longest backoff between restarts (default 10000)')
    .option('--kill-timeout <ms>', 'grace between the stop signal and SIGKILL (default 5000)')
    .option('--stop-signal <sig>', 'signal angel sends to stop the child (default SIGTERM)')
    .option('--reload <mode>', 'what SIGHUP does: restart | signal (default restart)')
    .option('--user <user>', 'run the child as this user, with its supplementary groups')
    .option('--group <group>', 'run the child with this group')
    .option('--cwd <dir>', 'the child\'s working directory')
    .option('--env <K=V>', 'extra environment for the child, repeatable', collect, [])
    .option('--clear-env', 'the child gets only PATH, --env and the ANGEL_*/LISTEN_* variables')
    .option('--listen <addr>', '[name=][host:]port, [::1]:port or unix:/path, bound by angel and passed as fds 3.., repeatable', collect, [])
    .option('--socket-mode <mode>', 'mode of the unix sockets angel creates (default 0666)')
    .option('--ready <mode>', 'when a child counts as started: exec | fd | tcp:PORT | delay:MS (default exec)')
    .option('--ready-timeout <ms>', 'a child not ready by then counts as failed to start (default 30000)')
    .option('--log-file <path>', 'the child\'s stdout and stderr, appended here by angel; reopened on SIGUSR1')
    .addOption(new Option('--log-format <format>', 'angel\'s own events: json | pretty (default pretty on a TTY)'))
    .option('--log-level <level>', 'trace | debug | info | warn | error | silent (default info)');
}

/** Flags as Options, leaving out those not given so the config file can supply them. */
function flagOptions(flags: RunFlags, program: string | undefined, args: string[]): Partial<Options> {
  const options: Partial<Options> = {
    program,
    args: program === undefined ? undefined : args,
    maxMem: flags.maxMem,
    maxVmem: flags.maxVmem,
    maxFds: flags.maxFds,
    rlimits: flags.rlimit.length > 0 ? flags.rlimit : undefined,
    sampleInterval: flags.sampleInterval,
    overrunSamples: flags.overrunSamples,
    restart: flags.restart as Options['restart'],
    maxRestarts: flags.maxRestarts,
    restartWindow: flags.restartWindow,
    maxRestartDelay: flags.maxRestartDelay,
    killTimeout: flags.killTimeout,
    stopSignal: flags.stopSignal,
    reload: flags.reload as Options['reload'],
    user: flags.user,
    group: flags.group,
    cwd: flags.cwd,
    env: flags.env.length > 0 ? flags.env : undefined,
    clearEnv: flags.clearEnv,
    listen: flags.listen.length > 0 ? flags.listen : undefined,
    socketMode: flags.socketMode,
    ready: flags.ready,
    readyTimeout: flags.readyTimeout,
    logFile: flags.logFile,
    logFormat: flags.logFormat as Options['logFormat'],
    logLevel: flags.logLevel as Options['logLevel'],
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

function resolveFlags(flags: RunFlags, program: string | undefined, args: string[], forUser: StartingUser | null): ResolvedOptions {
  const file = flags.config === undefined ? null : readConfigFile(flags.config, forUser);
  const { options, origins } = mergeOptions(file, flagOptions(flags, program, args));
  return resolveOptions(options, origins);
}

async function run(program: string | undefined, args: string[], flags: RunFlags): Promise<number> {
  const forUser = startingUser();
  const launch = prepareLaunch(resolveFlags(flags, program, args, forUser), forUser);
  const { options } = launch;
  const logPipe = options.logFile === null ? null : new LogPipe(options.logFile);
  const sockets = bindAll(options.listen, options.socketMode);
  const supervisor = new Supervisor(launch, sockets, logPipe);
  installSignalHandlers(supervisor, { beforeReload: () => rereadConfig(supervisor, flags, program, args, forUser) });
  const log = createEventLog(options.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json'), options.logLevel);
  const drainEventLog = attachEventLog(supervisor, log, options.logLevel);
  supervisor.start();
  const status = await supervisor.done;
  const { close } = await log;
  drainEventLog(); // every event is handed to pino, then written, in order, before angel exits
  await close(1000);
  return status;
}

/** SIGHUP re-reads the config file first, with every check a start makes; a bad one is reported and changes
 * nothing (the child keeps running). */
function rereadConfig(supervisor: Supervisor, flags: RunFlags, program: string | undefined, args: string[], forUser: StartingUser | null): boolean {
  if (flags.config === undefined) return true;
  try {
    supervisor.updateLaunch(prepareLaunch(resolveFlags(flags, program, args, forUser), forUser));
    return true;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof PermissionError || error instanceof SpawnError)) throw error;
    supervisor.emit('warning', { message: `reload: ${flags.config} rejected, nothing changed: ${error.message}` });
    return false;
  }
}

function check(flags: RunFlags): number {
  const options = resolveFlags(flags, undefined, [], startingUser());
  process.stdout.write(`${JSON.stringify(options, null, 2)}\n`);
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
  if (error instanceof SpawnError) {
    // the program was not found while checking the root rule: the same status its spawn would give
    process.stderr.write(`angel: ${oneLine(error.message)}\n`);
    process.exit(exitStatusForSpawnError(error));
  }
  // Anything else is a bug in angel, not bad input (which is a UsageError where it is read): its stack is what
  // finds the bug, so it is not turned into a tidy line.
  throw error;
}

// What the root command answers itself; any other first word starts the default command, `run`.
const ROOT_WORDS: ReadonlySet<string> = new Set(['run', 'check', 'help', '-h', '--help', '-V', '--version']);

/** The arguments with `run` named where it is meant. commander picks a default command only after the root has
 * looked for -h/--help in every word (even an option's value, even past `--`: `angel --env -h -- prog` printed
 * help and started nothing); a named subcommand is dispatched at once. */
function withCommand(args: readonly string[]): string[] {
  return args.length > 0 && ROOT_WORDS.has(args[0] ?? '') ? [...args] : ['run', ...args];
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

async function main(argv: string[]): Promise<void> {
  const words = withCommand(argv.slice(2));
  const cli = new Command('angel')
    .description('Supervise one program: limits before exec, a memory cap on its process tree, restarts')
    .version(words[0] === '-V' || words[0] === '--version' ? versionText() : VERSION)
    // the root's own options (--version) only before the command: after it every word is the command's
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`angel: ${commanderLine(message)}\n`) });

  let status = 0;
  addRunOptions(cli.command('run', { isDefault: true }))
    .description('run a program under angel (the default command)')
    .argument('[program]', 'the program to run')
    .argument('[args...]', 'its arguments')
    .exitOverride()
    .action(async (program: string | undefined, args: string[], flags: RunFlags) => {
      status = await run(program, args, flags);
    });
  addRunOptions(cli.command('check'))
    .description('validate a config (and flags), print the resolved options; exit 0 or 2')
    .exitOverride()
    .action((flags: RunFlags) => {
      status = check(flags);
    });

  try {
    await cli.parseAsync(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    fail(error);
  }
  process.exit(status);
}

void main(process.argv);
