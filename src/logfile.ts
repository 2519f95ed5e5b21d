// --log-file: the child's stdout and stderr are the write end of one pipe that angel owns for its whole life,
// so output survives restarts and nothing a child wrote just before dying is lost; angel drains the pipe into
// a file it opened itself (the child never holds it). Lines are written whole, so a reopen on SIGUSR1
// (logrotate's rename + signal) puts each line in exactly one file. Writes go through libuv's threadpool
// (a slow disk never blocks the event loop) and the pipe is paused past a bound (the child then blocks
// on write), so nothing buffers without limit.
import { closeSync, constants, write } from 'node:fs';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import { native } from './native.js';
import { asUsageError, AT_FDCWD, openInRootOnlyDirectory, openRegularFile } from './safeopen.js';

const HIGH_WATER = 1 << 20;
const DRAIN_TIMEOUT_MS = 1000;
/** A line longer than this is written in pieces rather than held without end. */
const MAX_LINE = 64 * 1024;
// O_CLOEXEC too: libuv adds it to every open (uv_fs_open), which is why Node has no constant for it
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Opens the log file as angel. When root, every directory on the way must be root's and writable by no one
 * else, walked with openat (lighttpd's "unsafe logfiles": a planted symlink, in the path or at the file,
 * would make root append to any file). Never a FIFO or a device: opening one would block angel, and
 * writing to one is not logging. */
export function openLogFile(path: string): number {
  const asRoot = process.geteuid?.() === 0;
  try {
    const opened = asRoot ? openInRootOnlyDirectory(path, OPEN_FLAGS, 0o640) : openRegularFile(AT_FDCWD, resolve(path), OPEN_FLAGS, 0o640, path);
    return opened.fd;
  } catch (error) {
    return asUsageError(error, '--log-file', path, asRoot ? 'expected a file in a directory only root can write to' : 'expected a regular file angel can open');
  }
}

export class LogPipe {
  /** The fd the children get as their stdout and stderr. */
  readonly writeFd: number;
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

  constructor(readonly path: string) {
    this.#fd = openLogFile(path);
    const [readFd, writeFd] = native.pipe();
    this.writeFd = writeFd;
    this.#reader = new Socket({ fd: readFd, readable: true, writable: false });
    this.#reader.on('data', (chunk: Buffer) => this.#take(chunk));
    this.#ended = new Promise((resolveEnd) => this.#reader.once('end', () => resolveEnd()));
  }

  /** Starts a new file at the same path (after a rotation); every whole line so far goes to the old one. */
  reopen(): void {
    this.#nextFds.push(openLogFile(this.path));
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
    const item = this.#queue.shift();
    if (item === undefined) {
      this.#reader.resume();
      for (const resolveIdle of this.#idle.splice(0)) resolveIdle();
      return;
    }
    if (item === null) {
      closeSync(this.#fd);
      this.#fd = this.#nextFds.shift() as number;
      this.#pump();
      return;
    }
    this.#writing = true;
    const writeAll = (offset: number): void => {
      write(this.#fd, item, offset, item.length - offset, null, (error, written) => {
        if (!error && offset + written < item.length) return writeAll(offset + written);
        // a failed write (ENOSPC, EIO) loses that chunk but not the pipe: the next may succeed
        this.#writing = false;
        this.#queued -= item.length;
        this.#pump();
      });
    };
    writeAll(0);
  }
}
