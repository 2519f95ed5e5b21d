// --log-file: the child's stdout and stderr are the write end of one pipe that angel owns for its whole life,
// so output survives restarts and nothing a child wrote just before dying is lost; angel drains the pipe into
// a file it opened itself (the child never holds it). Lines are written whole, so a reopen on SIGUSR1
// (logrotate's rename + signal) puts each line in exactly one file. Writes go through libuv's threadpool
// (a slow disk never blocks the event loop) and the pipe is paused past a bound (the child then blocks
// on write), so nothing buffers without limit. A write that fails (a full disk) drops whole lines, never
// blocks the child, and is reported as a warning, as is the recovery.
import { accessSync, closeSync, constants, fstat, ftruncate, write } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { errorCode } from '../core/errnos.js';
import { counted } from '../core/errors.js';
import { openAt, pipe, type FsRights } from './syscalls.js';
import { asUsageError, AT_FDCWD, isDirectory, openInRootOnlyDirectory, openRegularFile, refusePseudoFilesystem, UnsafePath } from './safeopen.js';
import type { WarningEvent } from '../core/types.js';

const writeAsync = promisify(write);
const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);

const HIGH_WATER = 1 << 20;
const DRAIN_TIMEOUT_MS = 1000;
/** A line longer than this is written in pieces rather than held without end. */
const MAX_LINE = 64 * 1024;
// O_CLOEXEC too: libuv adds it to every open (uv_fs_open), which is why Node has no constant for it
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
/** A streak of failing writes is reported when it starts, then at most this often, with the running count:
 * a chatty child on a full disk fails a write per batch. */
const WARN_INTERVAL_MS = 1000;
const NEWLINE = Buffer.from('\n');

/** The lines in data, counting an unended last one (a piece of an over-long line, or the tail at close). */
function countLines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a, at + 1)) count++;
  return data.length > 0 && data[data.length - 1] !== 0x0a ? count + 1 : count;
}

/** Opens the log file as angel. Root for another user (`rights`) opens and creates it with that user's
 * filesystem rights, as sudoedit does: a file that user could not write (root's ~/.bashrc) is refused, and one
 * angel creates is theirs. Root for itself walks every directory on the way, each root's and writable by no
 * one else (lighttpd's "unsafe logfiles": a planted symlink, in the path or at the file, would make root append
 * to any file). Never a FIFO or a device (opening one would block angel, and writing to one is not logging),
 * and never a file of the kernel's own filesystems (/proc/sys/kernel/core_pattern). */
function openLogFile(path: string, name: string, rights: FsRights | null): number {
  const asRoot = process.geteuid?.() === 0;
  try {
    return openLog(path, OPEN_FLAGS, asRoot, rights);
  } catch (error) {
    return asUsageError(error, name, path, expectedOf(asRoot, rights));
  }
}

function openLog(path: string, flags: number, asRoot: boolean, rights: FsRights | null): number {
  const { fd } = asRoot && rights === null ? openInRootOnlyDirectory(path, flags, 0o640) : openRegularFile(AT_FDCWD, resolve(path), flags, 0o640, path, false, rights);
  refusePseudoFilesystem(fd, path);
  return fd;
}

const expectedOf = (asRoot: boolean, rights: FsRights | null): string =>
  rights !== null ? `expected a regular file uid ${rights.uid} can write` : asRoot ? 'expected a file in a directory only root can write to' : 'expected a regular file angel can open';

/** What opening the log file at start would answer, in the same words, without creating it (`angel check`):
 * a file not there yet passes when angel (or the user it acts for) may create it in its directory. */
export function checkLogFile(path: string, name = '--log-file', rights: FsRights | null = null): void {
  const asRoot = process.geteuid?.() === 0;
  try {
    closeSync(openLog(path, OPEN_FLAGS & ~constants.O_CREAT, asRoot, rights));
  } catch (error) {
    const directory = dirname(resolve(path));
    // a missing directory, or anything but a missing file, is what the start's open says too
    if (!(error instanceof UnsafePath && error.code === 'ENOENT' && isDirectory(directory))) asUsageError(error, name, path, expectedOf(asRoot, rights));
    try {
      if (rights === null) accessSync(directory, constants.W_OK);
      else closeSync(openAt(AT_FDCWD, directory, constants.O_RDONLY | constants.O_DIRECTORY, 0, rights));
    } catch (denied) {
      asUsageError(new UnsafePath(`open ${asRoot ? resolve(path) : path}: ${errorCode(denied)}`), name, path, expectedOf(asRoot, rights));
    }
  }
}

export class LogPipe {
  /** The fd the children get as their stdout and stderr. */
  readonly writeFd: number;
  /** How failing and recovering writes are reported (the supervisor makes them warning events). */
  onWarning: (warning: WarningEvent) => void = () => {};
  #reader: Socket;
  #fd: number;
  /** Whole lines to write, in order; null marks the switch to the next opened file. */
  #queue: Array<Buffer | null> = [];
  /** Files opened by reopen(), waiting for their switch marker. */
  #nextFds: number[] = [];
  #queued = 0;
  #writing = false;
  #partial: Buffer = Buffer.alloc(0);
  #ended: Promise<void>;
  #idle: Array<() => void> = [];
  /** Since the last write that succeeded: the last errno and the lines dropped. */
  #failing: { code: string; droppedLines: number; warnedAt: number } | null = null;
  /** The fd a cut line could not be taken back from: the next write there first ends it. */
  #cutFd: number | null = null;

  /** `name` is what messages call the path: --log-file, or the config file's key; `rights`, the user angel is
   * root for, whose rights open it (at start and at every reopen). */
  constructor(readonly path: string, readonly name = '--log-file', readonly rights: FsRights | null = null) {
    this.#fd = openLogFile(path, name, rights);
    const [readFd, writeFd] = pipe();
    this.writeFd = writeFd;
    this.#reader = new Socket({ fd: readFd, readable: true, writable: false });
    this.#reader.on('data', (chunk: Buffer) => this.#take(chunk));
    this.#ended = new Promise((resolveEnd) => this.#reader.once('end', () => resolveEnd()));
  }

  /** Starts a new file at the same path (after a rotation); every whole line so far goes to the old one. */
  reopen(): void {
    this.#nextFds.push(openLogFile(this.path, this.name, this.rights));
    this.#enqueue(null);
  }

  /** Closes the children's end, drains what is left, writes it, closes the file. */
  async close(): Promise<void> {
    closeSync(this.writeFd);
    // EOF comes once every holder of the write end is gone; an orphan that escaped the tree may keep a
    // copy, and must not keep angel from exiting
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#ended, new Promise((resolveLate) => (timer = setTimeout(resolveLate, DRAIN_TIMEOUT_MS)))]);
    clearTimeout(timer);
    this.#reader.destroy();
    if (this.#partial.length > 0) this.#enqueue(this.#partial);
    this.#partial = Buffer.alloc(0);
    await new Promise<void>((resolveIdle) => (this.#writing || this.#queue.length > 0 ? this.#idle.push(resolveIdle) : resolveIdle()));
    closeSync(this.#fd);
    // the last rate-limited warning may be up to WARN_INTERVAL_MS behind: say the final count
    if (this.#failing) this.#warn(`writes still failing (${this.#failing.code}) at close`, 'in all', this.#failing);
  }

  #take(chunk: Buffer): void {
    const data = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk]) : chunk;
    const end = data.lastIndexOf(0x0a) + 1;
    if (end > 0) this.#enqueue(data.subarray(0, end));
    this.#partial = data.subarray(end);
    if (this.#partial.length > MAX_LINE) {
      this.#enqueue(this.#partial);
      this.#partial = Buffer.alloc(0);
    }
  }

  #enqueue(data: Buffer | null): void {
    this.#queue.push(data);
    if (data) this.#queued += data.length;
    if (this.#queued > HIGH_WATER) this.#reader.pause();
    this.#pump();
  }

  #pump(): void {
    if (this.#writing) return;
    if (this.#queue.length === 0) {
      this.#reader.resume();
      for (const resolveIdle of this.#idle.splice(0)) resolveIdle();
      return;
    }
    if (this.#queue[0] === null) {
      this.#queue.shift();
      closeSync(this.#fd);
      this.#fd = this.#nextFds.shift() as number;
      this.#cutFd = null;
      this.#pump();
      return;
    }
    // all that queued up while the last write was out goes in one: on a full disk each try costs a failing
    // write and a truncate, and one per chunk read would throttle the child to that pace
    const switchAt = this.#queue.indexOf(null);
    const items = this.#queue.splice(0, switchAt === -1 ? this.#queue.length : switchAt) as Buffer[];
    const batch = items.length === 1 ? (items[0] as Buffer) : Buffer.concat(items);
    this.#writing = true;
    void this.#writeWhole(this.#fd, batch).then(() => {
      this.#writing = false;
      this.#queued -= batch.length;
      this.#pump();
    });
  }

  /** Writes the lines in data; on a failure (ENOSPC, EIO) keeps only those written whole and drops the rest,
   * since the next batch may succeed. On a full disk a write comes back short and the next one fails: the
   * start of the line it cut is taken back, or the next line to fit would be appended to it. */
  async #writeWhole(fd: number, data: Buffer): Promise<void> {
    let written = 0;
    try {
      if (this.#cutFd === fd) {
        await writeAsync(fd, NEWLINE);
        this.#cutFd = null;
      }
      while (written < data.length) written += (await writeAsync(fd, data, written, data.length - written, null)).bytesWritten;
    } catch (error) {
      const whole = written === 0 ? 0 : data.lastIndexOf(0x0a, written - 1) + 1;
      await this.#unwrite(fd, written - whole);
      this.#dropped(errorCode(error), countLines(data.subarray(whole)));
      return;
    }
    if (this.#failing) this.#warn(`writes recovered after ${this.#failing.code}`, 'in all', this.#failing);
    this.#failing = null;
  }

  /** Takes back the last bytes appended to fd. The size comes from fstat now rather than an offset kept
   * across writes, which a copytruncate rotation would leave pointing past the end. */
  async #unwrite(fd: number, bytes: number): Promise<void> {
    if (bytes === 0) return;
    try {
      const { size } = await fstatAsync(fd);
      if (size >= bytes) return await ftruncateAsync(fd, size - bytes);
    } catch {}
    // a FIFO or a tty (no size to cut back to), or a truncate that failed: the cut line stays, but the next
    // line must not be appended to it
    this.#cutFd = fd;
  }

  #dropped(code: string, lines: number): void {
    const now = performance.now();
    const failing = (this.#failing ??= { code, droppedLines: 0, warnedAt: -Infinity });
    failing.droppedLines += lines;
    if (code === failing.code && now - failing.warnedAt < WARN_INTERVAL_MS) return;
    failing.code = code;
    failing.warnedAt = now;
    this.#warn(`write failed (${code}), dropping lines`, 'so far', failing);
  }

  #warn(what: string, when: string, { code, droppedLines }: { code: string; droppedLines: number }): void {
    this.onWarning({ message: `log file ${this.path}: ${what}; ${counted(droppedLines, 'line')} dropped ${when}`, code, droppedLines });
  }
}
