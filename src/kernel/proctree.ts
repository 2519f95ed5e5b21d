// Reads a process tree and its resident memory straight from /proc (docs/ARCHITECTURE.md says why not pidusage):
// children from /proc/<pid>/task/<tid>/children, RSS from /proc/<pid>/statm, the thread count from the link
// count of /proc/<pid>/task (proc(5)). A process may vanish between two reads; it then simply does not count.
//
// Why statm and the task directory, not stat or status: stat's RSS is the kernel's per-CPU approximation, whose
// error grows with the number of CPUs; status and statm sum the counters. status has the thread count too, but
// it is a page of text the kernel generates at every read: in a C sampler of a 20-process tree waking every
// 100 ms, status and children cost 37-43 ms of CPU per 10 s, statm, an fstat of the task directory and children
// 29-31 ms.
//
// The sampler runs this every 100 ms for days, so a sample makes no garbage to speak of: the files stay
// open and are pread at offset 0 (a seq_file then generates afresh: one system call per file instead of
// three), and the numbers are parsed from the bytes, never through strings. Measured on a 20-process tree,
// the string-parsing reader cost a watching Node process about twice the CPU of this one, most of it in
// the garbage collector's threads. The pread is the addon's (syscalls.ts readAt): fs.readSync checks its
// arguments through five wrappers that each allocate, at every one of a sample's forty reads (a 20-process
// tree sampled in a loop: 156 us a sample against 175).
import { closeSync, openSync, readdirSync } from 'node:fs';
import { linkCount, pageSize, readAt } from './syscalls.js';

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
// Each after a newline: the Name line escapes newlines in the command name, so it cannot fake one of these.
const STATE = Buffer.from('\nState:\t', 'latin1');
const RSS_KIB = Buffer.from('\nVmRSS:', 'latin1');
const THREADS = Buffer.from('\nThreads:\t', 'latin1');

/** One buffer for every read, a page as the kernel generates them; it grows when a file does not fit (a children
 * list of hundreds). */
let buffer = Buffer.alloc(4096);

function grow(keep: number): void {
  const bigger = Buffer.alloc(buffer.length * 2);
  buffer.copy(bigger, 0, 0, keep);
  buffer = bigger;
}

/** A single-record seq_file (status, statm): generated whole, so one read returns all of it when it fits. The length
 * read; throws when the process is gone. */
function readRecord(fd: number): number {
  for (;;) {
    const length = readAt(fd, buffer, 0, buffer.length, 0);
    if (length < buffer.length) return length;
    grow(0);
  }
}

/** A seq_file of many records (children): a read returns at most the kernel's page-sized buffer of records,
 * so a short read is no end of file. A leaf's empty list costs one read. */
function readList(fd: number): number {
  let length = 0;
  for (;;) {
    if (length === buffer.length) grow(length);
    const read = readAt(fd, buffer, length, buffer.length - length, length);
    if (read === 0) return length;
    length += read;
  }
}

/** The unsigned decimal at buffer[i] (after any blanks), read no further than `length`. */
function decimalAt(i: number, length: number): number {
  while (i < length && (buffer[i] === 0x20 || buffer[i] === 0x09)) i++;
  let value = 0;
  for (; i < length; i++) {
    const byte = buffer[i] as number;
    if (byte < DIGIT_0 || byte > DIGIT_9) break;
    value = value * 10 + byte - DIGIT_0;
  }
  return value;
}

/** The unsigned decimal after `field` (and any blanks), or -1 when the field is not in the first `length` bytes. */
function fieldNumber(field: Buffer, length: number): number {
  const at = buffer.indexOf(field);
  if (at < 0 || at + field.length >= length) return -1; // past `length` lie the bytes of an earlier, longer read
  return decimalAt(at + field.length, length);
}

/** The fields angel needs from a status file in the buffer; returns the state letter's code (0 if none). */
function parseStatus(length: number, out: { threads: number; rssBytes: number }): number {
  const state = buffer.indexOf(STATE);
  const threads = fieldNumber(THREADS, length);
  out.threads = threads > 0 ? threads : 1;
  out.rssBytes = Math.max(0, fieldNumber(RSS_KIB, length)) * 1024; // none for a zombie
  return state >= 0 && state + STATE.length < length ? (buffer[state + STATE.length] as number) : 0;
}

interface OpenFile {
  fd: number;
  /** The sample that last read it; files not read by a sample belong to processes gone from the tree. */
  mark: number;
}

export interface ProcStatus {
  /** R, S, D, Z, T, … */
  state: string;
  threads: number;
  rssBytes: number;
}

/** Pushes the pids of a children list in the buffer onto `into`. */
function parsePids(length: number, into: number[]): void {
  let value = 0;
  let digits = false;
  for (let i = 0; i < length; i++) {
    const byte = buffer[i] as number;
    if (byte >= DIGIT_0 && byte <= DIGIT_9) {
      value = value * 10 + byte - DIGIT_0;
      digits = true;
    } else if (digits) {
      into.push(value);
      value = 0;
      digits = false;
    }
  }
  if (digits) into.push(value);
}

export interface TreeSample {
  /** The root first, then its descendants (including those that left its process group). */
  pids: number[];
  rssBytes: number;
}

type Read = (fd: number) => number;
const NO_PIDS: readonly number[] = [];

/** A process's files the sampler keeps open: its statm and its task directory, bound together to the process
 * they were opened for. */
interface ProcessFiles {
  statm: number;
  task: number;
  /** The sample that last read them, as OpenFile's. */
  mark: number;
}

function openProcess(pid: number, mark: number): ProcessFiles | undefined {
  let statm: number;
  try {
    statm = openSync(`/proc/${pid}/statm`, 'r');
  } catch {
    return undefined;
  }
  try {
    return { statm, task: openSync(`/proc/${pid}/task`, 'r'), mark };
  } catch {
    closeSync(statm);
    return undefined;
  }
}

function closeProcess(files: ProcessFiles): void {
  closeSync(files.statm);
  closeSync(files.task);
}

/** The resident pages of a statm file in the buffer (its second number), or 0. */
function residentPages(length: number): number {
  let i = 0;
  while (i < length && buffer[i] !== 0x20) i++;
  return decimalAt(i + 1, length);
}

/**
 * Samples one tree again and again with its /proc files kept open. An open /proc/<pid> file stays bound to
 * the process it was opened for, so a reused pid reads as gone (ESRCH) and is reopened once.
 */
export class TreeReader {
  /** pid → its statm and task directory; tid → its children file (tids are unique system-wide, like pids). */
  #processes = new Map<number, ProcessFiles>();
  #children = new Map<number, OpenFile>();
  #mark = 0;
  #pending: number[] = [];
  /** The last process read: its resident bytes and its live threads. */
  #rssBytes = 0;
  #threads = 0;
  readonly #pageSize = pageSize();

  /** The tree of `root`, and of each of `adopted` (orphans of the tree reparented to angel, reaper.ts). */
  sample(root: number, adopted: Iterable<number> = NO_PIDS): TreeSample {
    const mark = ++this.#mark;
    const pids: number[] = [];
    const pending = this.#pending;
    pending.length = 0;
    for (const pid of adopted) pending.push(pid);
    pending.push(root);
    let rssBytes = 0;
    while (pending.length > 0) {
      const pid = pending.pop() as number;
      if (this.#processes.get(pid)?.mark === mark) continue; // listed twice across a pid's reuse: count it once
      if (!this.#readProcess(pid, mark)) continue;
      pids.push(pid);
      rssBytes += this.#rssBytes;
      // a zombie has no thread left, and no children: theirs went to their reaper when the last thread ended
      if (this.#threads > 0) this.#pushChildren(pid, this.#threads, mark);
    }
    closeUnread(this.#processes, mark, closeProcess);
    closeUnread(this.#children, mark, closeFile);
    return { pids, rssBytes };
  }

  close(): void {
    this.#processes.forEach(closeProcess);
    this.#processes.clear();
    this.#children.forEach(closeFile);
    this.#children.clear();
  }

  /** Reads the RSS and the thread count of `pid` into #rssBytes and #threads, opening its files on first use
   * (both afresh, once, when they were of an earlier process of that pid); false when it is gone. */
  #readProcess(pid: number, mark: number): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      let files = this.#processes.get(pid);
      if (files === undefined) {
        files = openProcess(pid, mark);
        if (files === undefined) return false;
        this.#processes.set(pid, files);
      }
      files.mark = mark;
      try {
        this.#rssBytes = residentPages(readRecord(files.statm)) * this.#pageSize;
        this.#threads = linkCount(files.task) - 2;
        return true;
      } catch {
        closeProcess(files); // the process they were opened for is gone: try a fresh open once
        this.#processes.delete(pid);
      }
    }
    return false;
  }

  /** Every thread's children (a thread other than the main one can fork too); one file when single-threaded. */
  #pushChildren(pid: number, threads: number, mark: number): void {
    if (threads === 1) {
      const length = this.#read(this.#children, pid, pid, childrenPath, readList, mark);
      if (length > 0) parsePids(length, this.#pending);
      return;
    }
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      const length = this.#read(this.#children, pid, Number(tid), childrenPath, readList, mark);
      if (length > 0) parsePids(length, this.#pending);
    }
  }

  /** Reads the file of `id` (a pid or a tid of process `pid`), opening it on first use; -1 when it is gone. */
  #read(files: Map<number, OpenFile>, pid: number, id: number, path: Path, read: Read, mark: number): number {
    for (let attempt = 0; attempt < 2; attempt++) {
      let file = files.get(id);
      if (file === undefined) {
        try {
          file = { fd: openSync(path(pid, id), 'r'), mark };
        } catch {
          return -1;
        }
        files.set(id, file);
      }
      file.mark = mark;
      try {
        return read(file.fd);
      } catch {
        closeSync(file.fd); // the process it was opened for is gone: try a fresh open once
        files.delete(id);
      }
    }
    return -1;
  }
}

/** Closes the files a sample did not read (of processes gone from the tree) and forgets them. */
function closeUnread<Files extends { mark: number }>(
  files: Map<number, Files>,
  mark: number,
  close: (unread: Files) => void,
): void {
  // forEach, not for-of: no [key, value] pair allocated per file and sample
  files.forEach((file, id) => {
    if (file.mark === mark) return;
    close(file);
    files.delete(id);
  });
}

const closeFile = (file: OpenFile): void => closeSync(file.fd);

// Module-level and given the pid, so a sample allocates no closure per thread.
type Path = (pid: number, id: number) => string;
const statusPath: Path = (pid) => `/proc/${pid}/status`;
const childrenPath: Path = (pid, tid) => `/proc/${pid}/task/${tid}/children`;

/** A single-record file of a process (status, stat) read whole into the buffer once, not kept open: its length,
 * or null when the process is gone (before the open, or between the open and the read). */
function recordAt(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return readRecord(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** State, thread count and RSS of a process, or null when it is gone. */
export function readStatus(pid: number): ProcStatus | null {
  const length = recordAt(statusPath(pid, pid));
  if (length === null) return null;
  const out = { threads: 1, rssBytes: 0 };
  const state = parseStatus(length, out);
  return { state: String.fromCharCode(state), ...out };
}

/** The root and all its descendants (and the adopted ones' trees), read once. */
export function treePids(root: number, adopted: Iterable<number> = NO_PIDS): number[] {
  const reader = new TreeReader();
  try {
    return reader.sample(root, adopted).pids;
  } finally {
    reader.close();
  }
}

/** The children of this process's main thread, its file kept open and pread as the sampler's are: a subreaper
 * lists them on every scan for orphans (they are reparented to its main thread). */
export class OwnChildren {
  #fd: number | null = null;

  read(): number[] {
    this.#fd ??= openSync(childrenPath(process.pid, process.pid), 'r');
    const pids: number[] = [];
    parsePids(readList(this.#fd), pids);
    return pids;
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** The state letter of a process (R, S, Z, …), or null when the pid is gone. */
export function processState(pid: number): string | null {
  return readStatus(pid)?.state ?? null;
}

/** The fields of /proc/<pid>/stat after the command name, from field 3 (the state) on, or null once the process
 * is gone. The command name sits in parentheses and may hold spaces and parentheses, so the fields start after
 * the last ')'. */
export function statFields(pid: number | 'self'): string[] | null {
  // one read into the shared buffer (recordAt): a generation's start reads its child's, a crash loop's restart
  // path included, where readFileSync's fstat and buffer of its own were most of the read's cost
  const length = recordAt(`/proc/${pid}/stat`);
  if (length === null) return null;
  const stat = buffer.toString('latin1', 0, length);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The parent of a process, or null when it is gone. */
function parentOf(pid: number): number | null {
  const fields = statFields(pid);
  return fields === null ? null : Number(fields[1]);
}

/** Whether `pid` is `root` or one of its descendants now: its parents are followed up to `root` (or to init).
 * A process that left the tree by being reparented is not in it. */
export function inTree(root: number, pid: number): boolean {
  for (let at: number | null = pid, depth = 0; at !== null && at > 1 && depth < 256; depth++) {
    if (at === root) return true;
    at = parentOf(at);
  }
  return false;
}

const GENERATION_VARIABLE = Buffer.from('\0ANGEL_GENERATION=', 'latin1');
const INSTANCE_VARIABLE = Buffer.from('\0ANGEL_INSTANCE=', 'latin1');
/** Made at the first read: most angels never read another process's environment (no sweep, no orphan). */
let environBuffer: Buffer | null = null;

/** The values of environment variables as the process `pid` started with them (/proc/<pid>/environ, its first
 * 64 KiB, read once for all of them), each null when it is not there; all null when the process is gone; null
 * when the environment reads as empty (see EMPTY_ENVIRONMENT). */
function environValues(pid: number, variables: readonly Buffer[]): Array<string | null> | null {
  const none = variables.map(() => null);
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch {
    return none;
  }
  try {
    const bytes = (environBuffer ??= Buffer.alloc(64 * 1024));
    bytes[0] = 0;
    const read = readAt(fd, bytes, 1, bytes.length - 1, 0);
    if (read === 0) return null;
    const length = read + 1;
    const environ = bytes.subarray(0, length);
    return variables.map((variable) => {
      const at = environ.indexOf(variable);
      if (at < 0) return null;
      const start = at + variable.length;
      const end = environ.indexOf(0, start);
      return environ.toString('latin1', start, end < 0 ? length : end);
    });
  } catch {
    return none;
  } finally {
    closeSync(fd);
  }
}

/** What generationOf answers for a process whose environment reads as empty: one in the middle of execve (its
 * new memory is in place, the environment not yet copied into it: /proc shows none), which will show its own in
 * a moment, or one started with none, which reads so for good. */
export const EMPTY_ENVIRONMENT = 'empty environment';

const generationIn = (value: string | null): number | null => (value !== null && /^\d{1,9}$/.test(value) ? Number(value) : null);

/** The generation a process was started in (ANGEL_GENERATION in the environment it started with: a setsid
 * daemon keeps it), or null. */
export function generationOf(pid: number): number | null | typeof EMPTY_ENVIRONMENT {
  const values = environValues(pid, [GENERATION_VARIABLE]);
  return values === null ? EMPTY_ENVIRONMENT : generationIn(values[0] ?? null);
}

/** The angel and the generation a process was started by (ANGEL_INSTANCE: its runtime instance's name, and
 * ANGEL_GENERATION), each null when it has none; one read of its environment; EMPTY_ENVIRONMENT when that
 * reads as empty. */
export function startedBy(pid: number): { instance: string | null; generation: number | null } | typeof EMPTY_ENVIRONMENT {
  const values = environValues(pid, [INSTANCE_VARIABLE, GENERATION_VARIABLE]);
  if (values === null) return EMPTY_ENVIRONMENT;
  const [instance = null, generation = null] = values;
  return { instance, generation: generationIn(generation) };
}
