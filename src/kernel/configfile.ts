// Reads --config: a regular file of at most MAX_CONFIG_BYTES, opened without blocking (a FIFO would hang
// angel in open(2), at start or at a SIGHUP's re-read) and read with a bound (/dev/zero grew angel to
// 8 GB). When angel is root for another user, the file is trusted as root's own settings, so it must be a
// file only root could have written, in directories only root can write to, reached without a symlink; and
// it is walked and opened with that user's rights, so a file that user cannot read (/etc/shadow) is refused
// before a byte of it is parsed, and nothing of it reaches a message.
import { parseConfigText } from '../core/config.js';
import type { Origins } from '../core/options.js';
import type { StartingUser } from './rootrule.js';
import { asUsageError, readNamedFile } from './safeopen.js';
import type { Options } from '../core/types.js';

const MAX_CONFIG_BYTES = 1 << 20;

export function readConfigFile(file: string, forUser: StartingUser | null): { options: Partial<Options>; origins: Origins } {
  const expected = forUser
    ? `expected a file only root can write to and ${forUser.name} can read, in directories only root can write to`
    : 'expected a readable regular file';
  let text: string;
  try {
    text = readNamedFile(file, MAX_CONFIG_BYTES, forUser, forUser !== null).toString('utf8');
  } catch (error) {
    return asUsageError(error, '--config', file, expected);
  }
  return parseConfigText(text, file);
}
