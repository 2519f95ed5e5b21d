// Everything a start needs that depends on the system rather than on the options' text, decided once, at
// start and again on a reload: who the child runs as, its environment, which file it executes, and, when
// angel is root for someone else, whether that someone may ask for all of it. The CLI and supervise() both
// start from here, and a SIGHUP's new config goes through the same checks before it replaces anything.
import { createRequire } from 'node:module';
import type Posix from 'posix';
import type { ResolvedOptions } from '../core/options.js';
import { childEnvironment, childEnvironmentForRoot, RUNS_CODE } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { resolveIdentity, type ChildIdentity } from '../kernel/identity.js';
import { openLockedProgram } from '../kernel/lock.js';
import { closeProgram, openProgram, type ProgramFile } from '../kernel/program.js';
import { checkRootRule, type StartingUser } from '../kernel/rootrule.js';
import { asUsageError, openRootOnlyDirectory } from '../kernel/safeopen.js';
import { closeSync, statSync } from 'node:fs';

export interface Launch {
  readonly options: ResolvedOptions;
  readonly identity: ChildIdentity | null;
  /** The child's environment, before the per-start (ANGEL_*) and socket (LISTEN_*) variables. */
  readonly env: Readonly<Record<string, string>>;
  /** The file every generation executes, when it must be the file that was checked (angel is root for
   * another user, or locked to one binary); null: the program is looked up as execvp(3) would. */
  readonly program: ProgramFile | null;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The home and name of the account the child runs as (root when it keeps angel's identity). */
function accountOf(uid: number): { home: string; name: string } {
  try {
    const entry = (createRequire(import.meta.url)('posix') as typeof Posix).getpwnam(uid);
    return { home: entry.dir ?? '/', name: entry.name ?? String(uid) };
  } catch {
    return { home: '/', name: String(uid) };
  }
}

function refuseCodeVariables(env: Readonly<Record<string, string>>, user: StartingUser): void {
  for (const key of Object.keys(env)) {
    if (RUNS_CODE.test(key)) {
      throw new UsageError('--env', key, `expected no variable that makes a program run code or read settings from a path (angel runs as root for ${user.name})`);
    }
  }
}

/** Checks `options` against the system and opens what the child will run. Throws UsageError (2),
 * PermissionError (126) or SpawnError (126/127). `forUser` is the starting user when angel is root for
 * someone else (rootrule.ts). */
export function prepareLaunch(options: ResolvedOptions, forUser: StartingUser | null, environment = process.env): Launch {
  const identity = resolveIdentity(options.user, options.group);
  let env: Record<string, string>;
  if (forUser) {
    refuseCodeVariables(options.env, forUser);
    env = childEnvironmentForRoot(environment, options.env, accountOf(identity?.uid ?? 0));
    // the child would read and write relative paths there as root: a directory that user controls is theirs
    if (options.cwd !== null) {
      try {
        closeSync(openRootOnlyDirectory(options.cwd));
      } catch (error) {
        asUsageError(error, '--cwd', options.cwd, 'expected a directory only root can write to');
      }
    }
  } else {
    env = childEnvironment(environment, options.env, options.clearEnv);
  }
  // a working directory that is not there is a mistake in the options, not a program that cannot run
  if (options.cwd !== null && !isDirectory(options.cwd)) throw new UsageError('--cwd', options.cwd, 'expected a directory that exists');
  const cwd = options.cwd ?? undefined;
  // resolved in the PATH the child gets, which is where execvp(3) in the child would have looked
  let program = openLockedProgram(options.program, env.PATH, cwd);
  if (!program && forUser) program = openProgram(options.program, env.PATH, cwd);
  try {
    if (forUser && program) checkRootRule(program, forUser);
  } catch (error) {
    closeProgram(program);
    throw error;
  }
  return { options, identity, env, program };
}

/** Releases what a launch holds open (the program's fd), once no spawn will use it. */
export function releaseLaunch(launch: Launch): void {
  closeProgram(launch.program);
}
