// --env-file: dotenv files of variables for the child, read at every start and reload (SIGHUP), in order, a
// later file's variable winning. A `-` before the path makes a missing file no error (systemd's
// EnvironmentFile=-): it is skipped; anything else wrong with it (EACCES, a FIFO, too large) is. Each is read
// with a bound, and opened as the user angel is root for when it acts for one: the user names only files
// they can read, and what those give is held to the allowlist by the launch (driver/launch.ts). Files that a
// root-owned config names are the admin's, as that config is, and must be root's alone.
import { parseEnvText } from '../core/environment.js';
import type { EnvFileSpec } from '../core/parse.js';
import type { StartingUser } from './rootrule.js';
import { asUsageError, readNamedFile, UnsafePath } from './safeopen.js';

/** As a config file: a dotenv file is a few kilobytes, and /dev/zero is not one. */
const MAX_ENV_FILE_BYTES = 1 << 20;

/** The variables of `specs`, read in order. `forUser`: the user angel is root for; `adminsOwn`: the files
 * came from a root-owned config. Throws UsageError naming `name` and the file. */
export function readEnvFiles(specs: readonly EnvFileSpec[], name: string, forUser: StartingUser | null, adminsOwn: boolean): Record<string, string> {
  const rootsOwn = forUser !== null && adminsOwn;
  const expected = rootsOwn
    ? `expected a file only root can write to and ${forUser.name} can read, in directories only root can write to`
    : forUser ? `expected a regular file uid ${forUser.uid} can read` : 'expected a readable regular file';
  const env: Record<string, string> = {};
  for (const spec of specs) {
    let text: string;
    try {
      text = readNamedFile(spec.path, MAX_ENV_FILE_BYTES, forUser, rootsOwn).toString('utf8');
    } catch (error) {
      if (spec.optional && error instanceof UnsafePath && error.code === 'ENOENT') continue;
      return asUsageError(error, name, spec.text, expected);
    }
    Object.assign(env, parseEnvText(text, name, spec.text));
  }
  return env;
}
