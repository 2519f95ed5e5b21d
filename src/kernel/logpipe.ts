// --log-file's pipes: the child's stdout and stderr are the write end of a pipe that angel owns for its whole
// life (one for both, or one each with --log-stream-tag), so output survives restarts and nothing a child
// wrote just before dying is lost; angel drains them into the file it opened (logfile.ts). Lines are written
// whole, so a reopen on SIGUSR1 (logrotate's rename + signal) and a rotation by size put each line in exactly
// one file. Writes go through libuv's threadpool (a slow disk never blocks the event loop) and the pipes are
// paused past a bound (the child then blocks on write), so nothing buffers without limit. A write that fails
// (a full disk) drops whole lines and never blocks the child (logfailures.ts reports it).
import { closeSync, fstat, fstatSync, ftruncate, write } from 'node:fs';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { errorCode } from '../core/errnos.js';
import { oneLine } from '../core/errors.js';
import { LineAssembler, linePrefix, planRotation, prefixLines } from '../core/loglines.js';
import type { WarningEvent } from '../core/types.js';
import { FailureStreak } from './logfailures.js';
import { openLogFile, rotateLogFile } from './logfile.js';
import { pipe, type FsRights } from './syscalls.js';

const writeAsync = promisify(write);
const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);

const HIGH_WATER = 1 << 20;
const DRAIN_TIMEOUT_MS = 1000;
const NEWLINE = Buffer.from('\n');

export interface LogFileSettings {
  path: string;
  /** What messages call the path: --log-file, or the config file's key. */
  name: string;
  /** The user angel is root for, whose rights open, create and rename the files (at start, at every reopen
   * and rotation). */
  rights: FsRights | null;
  /** Each line starts with the time angel read it. */
  timestamps: boolean;
  /** stdout and stderr through a pipe each, every line tagged with its stream (`out`, `err`). */
  streamTag: boolean;
  /** The file is rotated before it would pass this size; null: never by size. */
  maxBytes: number | null;
  /** How many rotated files are kept (FILE.1 the newest). */
  keep: number;
  /** angel's events share the file (writer()). */
  events: boolean;
}

/** A writer of whole lines into the file, among the child's (angel's event log). */
export interface LineWriter {
  write(text: string): void;
  /** Resolves once what was written is in the file. */
  end(): Promise<void>;
}

/** One pipe the children write into. */
interface Source {
  readonly writeFd: number;
  readonly reader: Socket;
  readonly lines: LineAssembler;
  readonly tag: string | null;
  readonly ended: Promise<void>;
}

export class LogPipe {
  /** The fds the children get as their stdout and stderr (one pipe for both unless lines are tagged). */
  readonly outFd: number;
  readonly errFd: number;
  /** How failing and recovering writes, and failed rotations, are reported (the supervisor makes them warning
   * events). */
  onWarning: (warning: WarningEvent) => void = () => {};
  readonly #settings: LogFileSettings;
  readonly #sources: Source[];
  #fd: number;
  /** The file's size as far as angel's own writes tell; null: not known, fstat says. */
  #size: number | null = null;
  /** The last byte written ended no line (a piece of an over-long line): the rest of it goes to the same file. */
  #midLine = false;
  /** After a rotation failed, the size at which it is tried again. */
  #retryAt = 0;
  /** Whole lines to write, in order; null marks the switch to the next opened file. */
  #queue: Array<Buffer | null> = [];
  /** Files opened by reopen(), waiting for their switch marker. */
  #nextFds: number[] = [];
  #queued = 0;
  #writing = false;
  #idle: Array<() => void> = [];
  readonly #failures: FailureStreak;
  /** The fd a cut line could not be taken back from: the next write there first ends it. */
  #cutFd: number | null = null;
  /** The pipes and each writer(): the file is closed when the last of them is done. */
  #holders = 1;

  constructor(settings: LogFileSettings) {
    this.#settings = settings;
    this.#failures = new FailureStreak(settings.path, (warning) => this.onWarning(warning));
    this.#fd = openLogFile(settings.path, settings.name, settings.rights);
    // a piece of a line left unended would have the next source's line, or a prefix, run into it
    const endPieces = settings.timestamps || settings.streamTag || settings.events;
    this.#sources = settings.streamTag ? [this.#source('out', endPieces), this.#source('err', endPieces)] : [this.#source(null, endPieces)];
    const [out, err = out] = this.#sources as [Source, Source?];
    this.outFd = out.writeFd;
    this.errFd = err.writeFd;
  }

  /** Starts a new file at the same path (after a rotation); every whole line so far goes to the old one. */
  reopen(): void {
    this.#nextFds.push(openLogFile(this.#settings.path, this.#settings.name, this.#settings.rights));
    this.#enqueue(null);
  }

  /** Whole lines written among the child's, with the same prefix, tagged `angel` with --log-stream-tag. */
  writer(): LineWriter {
    this.#holders++;
    let ended = false;
    const tag = this.#settings.streamTag ? 'angel' : null;
    return {
      write: (text) => {
        if (!ended) this.#enqueue(this.#prefixed(Buffer.from(text), tag));
      },
      end: async () => {
        if (ended) return;
        ended = true;
        await this.#whenIdle();
        this.#release();
      },
    };
  }

  /** Closes the children's ends, drains what is left and writes it; the file is closed then, or once the
   * last writer() has ended. */
  async close(): Promise<void> {
    for (const fd of new Set([this.outFd, this.errFd])) closeSync(fd);
    // EOF comes once every holder of the write end is gone; an orphan that escaped the tree may keep a
    // copy, and must not keep angel from exiting
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((resolveLate) => (timer = setTimeout(resolveLate, DRAIN_TIMEOUT_MS)));
    await Promise.race([Promise.all(this.#sources.map((source) => source.ended)), late]);
    clearTimeout(timer);
    for (const source of this.#sources) {
      source.reader.destroy();
      const rest = source.lines.rest();
      if (rest) this.#enqueue(this.#prefixed(rest, source.tag));
    }
    await this.#whenIdle();
    this.#release();
  }

  #source(tag: string | null, endPieces: boolean): Source {
    const [readFd, writeFd] = pipe();
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    const lines = new LineAssembler(endPieces);
    reader.on('data', (chunk: Buffer) => {
      const whole = lines.take(chunk);
      if (whole) this.#enqueue(this.#prefixed(whole, tag));
    });
    const ended = new Promise<void>((resolveEnd) => reader.once('end', () => resolveEnd()));
    return { writeFd, reader, lines, tag, ended };
  }

  #prefixed(lines: Buffer, tag: string | null): Buffer {
    return prefixLines(lines, linePrefix(this.#settings.timestamps ? Date.now() : null, tag));
  }

  #release(): void {
    if (--this.#holders > 0) return;
    closeSync(this.#fd);
    this.#failures.closed();
  }

  #whenIdle(): Promise<void> {
    return new Promise((resolveIdle) => (this.#writing || this.#queue.length > 0 ? this.#idle.push(resolveIdle) : resolveIdle()));
  }

  #enqueue(data: Buffer | null): void {
    this.#queue.push(data);
    if (data) this.#queued += data.length;
    if (this.#queued > HIGH_WATER) for (const source of this.#sources) source.reader.pause();
    this.#pump();
  }

  #pump(): void {
    if (this.#writing) return;
    if (this.#queue.length === 0) {
      for (const source of this.#sources) source.reader.resume();
      for (const resolveIdle of this.#idle.splice(0)) resolveIdle();
      return;
    }
    if (this.#queue[0] === null) {
      this.#queue.shift();
      this.#use(this.#nextFds.shift() as number);
      this.#pump();
      return;
    }
    // all that queued up while the last write was out goes in one: on a full disk each try costs a failing
    // write and a truncate, and one per chunk read would throttle the child to that pace
    const switchAt = this.#queue.indexOf(null);
    const items = this.#queue.splice(0, switchAt === -1 ? this.#queue.length : switchAt) as Buffer[];
    const batch = items.length === 1 ? (items[0] as Buffer) : Buffer.concat(items);
    this.#writing = true;
    void this.#write(batch).then(() => {
      this.#writing = false;
      this.#queued -= batch.length;
      this.#pump();
    });
  }

  /** Writes into `fd` from now on, closing the file written so far. */
  #use(fd: number): void {
    closeSync(this.#fd);
    this.#fd = fd;
    this.#size = null;
    this.#midLine = false;
    this.#cutFd = null;
    this.#retryAt = 0;
  }

  /** Writes a batch, rotating where it would pass --log-max-size (planRotation says where). */
  async #write(data: Buffer): Promise<void> {
    const { maxBytes } = this.#settings;
    // a reopen waiting in the queue replaces this file: logrotate has it by now
    if (maxBytes === null || this.#nextFds.length > 0) return this.#writeWhole(this.#fd, data);
    let size = this.#size;
    if (size !== null && size < this.#retryAt) return this.#writeWhole(this.#fd, data);
    // a copytruncate shrinks the file behind angel's count: asked again before a rotation
    if (size === null || size + data.length > maxBytes) size = await this.#fileSize();
    if (size < this.#retryAt) return this.#writeWhole(this.#fd, data);
    for (const step of planRotation(data, size, maxBytes, this.#midLine)) {
      if (step.rotateFirst && !this.#rotate(maxBytes)) return this.#writeWhole(this.#fd, data.subarray(step.start));
      await this.#writeWhole(this.#fd, data.subarray(step.start, step.end));
    }
  }

  async #fileSize(): Promise<number> {
    try {
      this.#size = (await fstatAsync(this.#fd)).size;
    } catch {
      this.#size ??= 0;
    }
    return this.#size;
  }

  /** Moves on to a fresh file (rotateLogFile); false, with a warning, when that failed: angel writes on into
   * the file it has, and tries again once that has grown by another maxBytes. */
  #rotate(maxBytes: number): boolean {
    const { path, keep, rights } = this.#settings;
    try {
      this.#use(rotateLogFile(path, this.#fd, keep, rights));
      this.#size = fstatSync(this.#fd).size;
      return true;
    } catch (error) {
      this.#retryAt = (this.#size ?? 0) + maxBytes;
      const code = errorCode(error);
      this.onWarning({ message: `log file ${path}: rotation failed (${oneLine((error as Error).message)}); writing on into it, next try past ${this.#retryAt} bytes`, code });
      return false;
    }
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
        if (this.#size !== null) this.#size += NEWLINE.length;
      }
      while (written < data.length) written += (await writeAsync(fd, data, written, data.length - written, null)).bytesWritten;
    } catch (error) {
      const whole = written === 0 ? 0 : data.lastIndexOf(0x0a, written - 1) + 1;
      await this.#unwrite(fd, written - whole);
      this.#size = null;
      this.#midLine = false;
      this.#failures.dropped(errorCode(error), data.subarray(whole));
      return;
    }
    if (this.#size !== null) this.#size += data.length;
    if (data.length > 0) this.#midLine = data[data.length - 1] !== 0x0a;
    this.#failures.recovered();
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
}
