// The files `angel bench` opens: the scratch file the program's output goes to (so it cannot garble the
// table or the progress bar, and a failed run can quote it), and the exports, checked before the first cycle
// so a bad path fails at once rather than after the whole run.
import { accessSync, closeSync, constants, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

export interface Scratch {
  /** Where the program's stdout and stderr go (as --log-file). */
  readonly logPath: string;
  remove(): void;
}

/** A directory of angel's own (mode 0700: as root, --log-file must lie where only root can write). */
export function makeScratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'angel-bench-'));
  return { logPath: join(dir, 'output.log'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The last `count` lines of a file, read from its last 4 KiB; none when it cannot be read. */
export function lastLines(path: string, count: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    const buffer = Buffer.alloc(Math.min(size, 4096));
    const length = readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8', 0, length).split('\n').filter((line) => line.trim() !== '').slice(-count);
  } finally {
    closeSync(fd);
  }
}

/** Throws a UsageError naming the flag when `path` could not be written: a directory, or no write access to
 * it or to the directory it would be created in. Nothing is created. */
export function checkWritable(path: string, flag: string): void {
  const absolute = resolve(path);
  try {
    let exists = true;
    try {
      if (statSync(absolute).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw error;
      exists = false;
    }
    accessSync(exists ? absolute : dirname(absolute), constants.W_OK);
  } catch (error) {
    throw new UsageError(flag, path, `expected a file angel can write (${errnoOf(error)})`);
  }
}

export function writeExport(path: string, text: string, flag: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new UsageError(flag, path, `expected a file angel can write (${errnoOf(error)})`);
  }
}
