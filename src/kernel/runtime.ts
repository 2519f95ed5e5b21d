// Where a running angel keeps what others reach it by: its control socket (`angel status <pid>`) and its
// generations' NOTIFY_SOCKETs. Two levels:
// - the runtime base, one per user: root's /run/angel; another user's $XDG_RUNTIME_DIR/angel, or
//   /run/user/<uid>/angel, or /tmp/angel-<uid>; when someone else took that name first (any user can create
//   it in /tmp), a fresh private directory. Each is checked through what was found: a directory of that user's
//   that no one else can write to, so no other user can plant or swap a path in it.
// - the instance, one per angel: <base>/angel.<random id>, unique across PID namespaces (two containers'
//   PID-1 angels may share /run, and both are pid 1). Its liveness is a lock the living angel holds on the
//   directory (flock(2)): the kernel drops it when angel dies, however it dies, so the next angel removes what
//   a dead one left (its sockets) and nothing of a living one, in whatever namespace that one runs.
// `angel status <pid>` needs no name at all: it asks /proc which control socket that process listens on.
// Each instance also records its generations (`gen.<n>`: the PID namespace, the first process's pid and start
// time): a `kill -9` of angel leaves a server grandchild of a wrapper (`sh -c 'server; …'`) holding the port, out
// of reach of the parent-death signal, and the next angel's sweep stops what such a record proves was the dead
// angel's before it binds.
import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { lockDirectory } from './dirlock.js';
import { EMPTY_ENVIRONMENT, startedBy, statFields } from './proctree.js';
import { randomHex } from './random.js';

const ROOT_BASE = '/run/angel';
const INSTANCE_PREFIX = 'angel.';
const CONTROL_SOCKET = 'control.sock';

/** A directory of `uid`'s that no one else can write to, not a link: the only kind a base or instance may be. */
function ownedBy(path: string, uid: number): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Makes `path` (mode) unless it is there; true when what is there is `uid`'s own (ownedBy). */
function made(path: string, uid: number, mode: number): boolean {
  try {
    mkdirSync(path, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  return ownedBy(path, uid);
}

/** The base an angel running as `uid` keeps its instances in, created and checked; for another user the first
 * of $XDG_RUNTIME_DIR/angel, /run/user/<uid>/angel and /tmp/angel-<uid> that is that user's alone, else a fresh
 * private directory in /tmp. Throws when none can be made. */
export function runtimeBase(uid: number, env: Readonly<Record<string, string | undefined>> = process.env): string {
  // 0711 for root: a child of another user must pass through it to its generation's notify socket
  if (uid === 0) {
    if (made(ROOT_BASE, 0, 0o711)) return ROOT_BASE;
    throw Object.assign(new Error(`${ROOT_BASE}: expected a directory of root's that no one else can write to`), { code: 'EPERM' });
  }
  const xdg = env.XDG_RUNTIME_DIR;
  for (const parent of [xdg !== undefined && isAbsolute(xdg) ? xdg : null, `/run/user/${uid}`]) {
    if (parent !== null && ownedBy(parent, uid) && made(join(parent, 'angel'), uid, 0o700)) return join(parent, 'angel');
  }
  const fallback = `/tmp/angel-${uid}`;
  if (made(fallback, uid, 0o700)) return fallback;
  // someone else has the name: a directory of its own, which mkdtemp makes 0700 and new
  return mkdtempSync(`${fallback}.`);
}

/** Removes the instances in `base` whose angel is gone: those whose lock can be taken. A living angel's lock
 * cannot, wherever it runs. Returns how many were removed.
 * A sweep takes the lock shared, where the angel holds it exclusive: two angels starting at once both act on
 * a dead one's instance. With one lock for all, the second would take the first's for a living angel's and
 * pass by, and when the first is in another PID namespace (a container's angel sharing /run), which leaves
 * this namespace's records alone, nobody would stop what they prove the dead angel's. */
export function sweepInstances(base: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(base).filter((name) => name.startsWith(INSTANCE_PREFIX));
  } catch {
    return 0;
  }
  // read only when a record of another namespace is met: a container's PID-1 angel sharing /run
  let namespaces: ReadonlySet<string> | null | undefined;
  const living = (): ReadonlySet<string> | null => {
    if (namespaces === undefined) namespaces = livingPidNamespaces();
    return namespaces;
  };
  for (const name of names) {
    const path = join(base, name);
    let fd: number | null;
    try {
      fd = lockDirectory(path, false, true);
    } catch {
      continue; // not a directory (a socket an older angel left?), or gone meanwhile
    }
    if (fd === null) continue;
    try {
      // records of another PID namespace that may still live are for an angel there to act on (its processes are
      // not this one's to find), and a record this sweep could not judge whole is for the next: the directory
      // stays for them, less what this sweep did act on
      if (killLeftovers(path, living)) continue;
      rmSync(path, { recursive: true, force: true });
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // another sweep removed it first
    } finally {
      closeSync(fd);
    }
  }
  return removed;
}

/** This angel's own directory in the runtime base: made on first use, locked for angel's whole life, removed
 * at its end. One per process: every supervisor of a library host shares it. */
export class Instance {
  static #current: Instance | null = null;
  readonly path: string;
  readonly uid: number;
  #fd: number;
  #users = 0;

  private constructor(path: string, uid: number, fd: number) {
    this.path = path;
    this.uid = uid;
    this.#fd = fd;
  }

  /** This process's instance, made (and dead angels' swept) on first use. Throws when the base cannot be. */
  static acquire(uid: number = process.getuid?.() ?? 0): Instance {
    if (Instance.#current === null) {
      const base = runtimeBase(uid);
      sweepInstances(base);
      const id = randomHex(8);
      // made and locked under a name no sweep looks at, then renamed into place: a sweep never sees it unlocked
      const making = join(base, `.${INSTANCE_PREFIX}${id}`);
      const path = join(base, `${INSTANCE_PREFIX}${id}`);
      mkdirSync(making, { mode: 0o700 });
      // a root angel's notify directories must be reachable by children of other users: 0711
      chmodSync(making, uid === 0 ? 0o711 : 0o700);
      const fd = lockDirectory(making, true) as number;
      renameSync(making, path);
      Instance.#current = new Instance(path, uid, fd);
    }
    Instance.#current.#users++;
    return Instance.#current;
  }

  /** Its name (`angel.<random>`), which its children get as ANGEL_INSTANCE: what a next angel's sweep proves a
   * leftover by, besides its generation. */
  get name(): string {
    return basename(this.path);
  }

  get controlPath(): string {
    return join(this.path, CONTROL_SOCKET);
  }

  /** Records a generation's first process, for the sweep of a next angel should this one be killed. Written
   * whole under another name, then renamed into place: a kill -9 between the write's open and its bytes would
   * otherwise leave an empty record, which the sweep cannot act on, and the generation's leftovers would live
   * on. */
  record(generation: number, leader: number, startTick: number | null): void {
    if (startTick === null || this.#fd < 0) return;
    const partial = join(this.path, `.gen.${generation}`);
    try {
      writeFileSync(partial, `${pidNamespace()} ${leader} ${startTick}\n`);
      renameSync(partial, join(this.path, `gen.${generation}`));
    } catch {}
  }

  /** The generation is over: nothing of it is left to sweep. */
  forget(generation: number): void {
    try {
      unlinkSync(join(this.path, `gen.${generation}`));
    } catch {} // ENOENT: never recorded (no start time was read)
  }

  /** Gives up one use; the last removes the directory and drops the lock. */
  release(): void {
    if (--this.#users > 0 || this.#fd < 0) return;
    rmSync(this.path, { recursive: true, force: true });
    closeSync(this.#fd);
    this.#fd = -1;
    if (Instance.#current === this) Instance.#current = null;
  }
}

let ownPidNamespace: string | null = null;

/** This process's PID namespace (the inode of /proc/self/ns/pid): a pid means something only within one. Read
 * once: a process never changes its own, only its children's. */
function pidNamespace(): string {
  if (ownPidNamespace !== null) return ownPidNamespace;
  try {
    ownPidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    ownPidNamespace = 'pid:[?]';
  }
  return ownPidNamespace;
}

/** The pids /proc lists: every process of this PID namespace as it is read. */
const procPids = (): number[] => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);

/** The initial PID namespace (PROC_PID_INIT_INO in the kernel, the same inode on every Linux since 3.8): a
 * process in it sees every process of the machine in /proc. */
export const INITIAL_PID_NAMESPACE = 'pid:[4026531836]';

/** The PID namespaces some process is in, or null when this process cannot tell: outside the initial namespace
 * (a namespace with no process in view may have some out of it), or refused another's (EACCES). A namespace with
 * no process is gone for good, and with it every process it had: nothing can join one whose init died. */
function livingPidNamespaces(): ReadonlySet<string> | null {
  if (pidNamespace() !== INITIAL_PID_NAMESPACE) return null;
  // pid 1 is the initial namespace's own init, there by definition (a host's init may refuse its links even to
  // root: more capabilities than the reader's)
  const living = new Set<string>([INITIAL_PID_NAMESPACE]);
  for (const pid of procPids()) {
    if (pid === 1) continue;
    try {
      living.add(readlinkSync(`/proc/${pid}/ns/pid`));
    } catch (error) {
      // ENOENT: it ended, or is a zombie; another user's process, unreadable: this sweep cannot tell
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return null;
    }
  }
  return living;
}

/** How long a sweep waits for the leftovers it killed to be gone (their sockets closed) before it goes on. */
const LEFTOVER_WAIT_MS = 2000;

/** Every process in session `session`, started no earlier than its leader, with the dead angel's instance name and
 * the generation's number in the environment it started with: what a dead angel's record proves its own. A
 * session id stays taken by the kernel while any process is in that session, so the members found are of the
 * session the generation began, unless all of it ended and the number was taken again since (a busy machine
 * reuses pids within seconds): then the new session's processes started later, but they were never given that
 * instance's name. `unsure`: how many of that session, started since, have an environment that reads as empty
 * (EMPTY_ENVIRONMENT: in the middle of an execve, or started with none), looked at twice: nothing proves them the
 * dead angel's, or not, yet. */
function sessionMembers(session: number, leaderStart: number, instance: string, generation: number): { members: number[]; unsure: number } {
  const members: number[] = [];
  const unread: number[] = [];
  const judge = (pid: number): void => {
    const started = startedBy(pid);
    if (started === EMPTY_ENVIRONMENT) unread.push(pid);
    else if (started.instance === instance && started.generation === generation) members.push(pid);
  };
  for (const pid of procPids()) {
    const fields = statFields(pid);
    if (fields === null || fields[0] === 'Z') continue;
    if (Number(fields[3]) !== session || Number(fields[19]) < leaderStart) continue;
    judge(pid);
  }
  // an execve shows its environment a moment after its memory: the whole scan is that moment
  const again = unread.splice(0);
  for (const pid of again) judge(pid);
  return { members, unsure: unread.length };
}

/** SIGKILLs what a dead angel's generation records say is left of them, in this PID namespace only (a record
 * of another namespace names other processes here), and waits until they are gone; the records acted on are
 * removed, and so are those of a namespace that is gone, which left nothing running (`livingNamespaces`:
 * livingPidNamespaces, read at most once a sweep). Returns whether records are left for a later sweep: those of
 * another namespace that may live (for an angel there), and one whose session holds a process this sweep could
 * not judge (sessionMembers' `unsure`), which the next angel's sweep looks at again. */
function killLeftovers(instance: string, livingNamespaces: () => ReadonlySet<string> | null): boolean {
  const here = pidNamespace();
  const doomed: number[] = [];
  let left = false;
  for (const name of readdirSync(instance).filter((entry) => entry.startsWith('gen.'))) {
    let record: string[];
    try {
      record = readFileSync(join(instance, name), 'latin1').trim().split(' ');
    } catch {
      continue;
    }
    const [namespace, leader, start] = record;
    if (!/^\d+$/.test(leader ?? '') || !/^\d+$/.test(start ?? '')) continue;
    if (namespace !== here) {
      const namespaces = livingNamespaces();
      if (namespaces === null || namespaces.has(namespace ?? '')) left = true;
      else rmSync(join(instance, name), { force: true });
      continue;
    }
    const { members, unsure } = sessionMembers(Number(leader), Number(start), basename(instance), Number(name.slice('gen.'.length)));
    doomed.push(...members);
    if (unsure > 0) left = true;
    else rmSync(join(instance, name), { force: true });
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  const deadline = Date.now() + LEFTOVER_WAIT_MS;
  const living = (): boolean => doomed.some((pid) => {
    const state = statFields(pid)?.[0];
    return state !== undefined && state !== 'Z';
  });
  while (living() && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  return left;
}

/** The real uid a process runs as (/proc/<pid>/status), or null when there is no such process. */
export function processOwner(pid: number): number | null {
  try {
    const uid = /\nUid:\t(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

/** The control socket the process `pid` listens on, as a path this process can connect to: its socket fds
 * (/proc/<pid>/fd) matched with the listening unix sockets of its network namespace (/proc/<pid>/net/unix),
 * reached through its root (/proc/<pid>/root), so an angel in a container of its own is found by its pid on
 * the host. Throws with the errno when /proc says no (EACCES: another user's angel), or ENOENT: no angel's
 * control socket there. */
export function controlSocketOf(pid: number): string {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[')) sockets.add(target.slice(8, -1));
    } catch {}
  }
  for (const line of readFileSync(`/proc/${pid}/net/unix`, 'latin1').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path: Flags 00010000 is a listening socket
    const fields = line.trim().split(/\s+/);
    const [path, inode, flags] = [fields[7], fields[6], fields[3]];
    if (path === undefined || inode === undefined || !sockets.has(inode) || flags !== '00010000') continue;
    if (path.endsWith(`/${CONTROL_SOCKET}`) && path.includes(`/${INSTANCE_PREFIX}`)) return `/proc/${pid}/root${path}`;
  }
  throw Object.assign(new Error(`pid ${pid} listens on no angel control socket`), { code: 'ENOENT' });
}
