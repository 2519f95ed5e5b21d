// The one door to the addon: every call into C goes through here, typed as native.ts declares it. The
// modules beside this one give the calls meaning (spawn.ts, sockets.ts, safeopen.ts, …); this one only
// forwards, so a reader sees in one place all that angel asks of the kernel beyond Node. A failed system call
// comes out of C as its errno number and step; it is named here, from the one table (core/errnos.ts).
import { errnoName } from '../core/errnos.js';
import { clockMs } from './clock.js';
import { addon, type NativeAddon, type NativeProgram, type NativeSpawnFields, type NativeSpawnSpec, type PreparedProgram, type RightsTuple } from './native.js';

// the addon's own types, for the modules beside this one: they name the addon only through this door
export type { FdWatch, NativeProgram, NativeSpawnFields, NativeSpawnSpec, NotifyWatchHandle, PreparedProgram, PreparedStrings } from './native.js';

/** A user's filesystem rights: when angel is root for that user, the paths they name are used with these
 * (native/rights.c), so angel can do with them only what that user could. */
export interface FsRights {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

const tupleOf = (rights: FsRights | null): RightsTuple | null => rights && [rights.uid, rights.gid, rights.groups];

/** A system error thrown by C, given its errno's name as `code` and in its message. */
function withErrnoName(error: unknown): unknown {
  const native = error as NodeJS.ErrnoException;
  if (typeof native.errno === 'number' && typeof native.syscall === 'string' && native.code === undefined) {
    native.code = errnoName(native.errno);
    // C's message is `step: strerror text`
    native.message = `${native.syscall}: ${native.code} (${native.message.slice(native.syscall.length + 2)})`;
  }
  return error;
}

/** Runs a call into C; a system error it throws gets its errno's name as `code` and in its message. */
function named<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw withErrnoName(error);
  }
}

export const prepareProgram = (program: NativeProgram): PreparedProgram => named(() => addon().prepareProgram(program));

/** Where spawn's numbers sit in its layout (native/process.c enum spawn_layout). */
const enum Layout { EnvCount, ListenPidIndex, WatchdogPidIndex, CgroupFd, CgroupProcsFd, Pid, Pidfd, ExecSeconds, ExecNanoseconds, Nfds, Fds }

/** The numbers and fds of a spawn, in one array kept from one spawn to the next and read by C in place. */
let layout = new Int32Array(Layout.Fds + 8);

/** The layout's value for `value`, checked: an Int32Array would turn anything else into a number silently. */
function int32(value: number, what: string): number {
  if ((value | 0) !== value) throw new TypeError(`spawn: ${what}: expected an integer`);
  return value;
}

/** Starts a prepared program with this spawn's fields: [pid, pidfd, execAt] once the child has exec'd, execAt
 * the moment the child called execve on angel's clock (kernel/clock.ts: CLOCK_MONOTONIC in ms), as it read it. */
export function spawnProgram(program: PreparedProgram, fields: NativeSpawnFields): [number, number, number] {
  const { env, fds } = fields;
  if (layout.length < Layout.Fds + fds.length) layout = new Int32Array(Layout.Fds + fds.length);
  layout[Layout.EnvCount] = env.length;
  layout[Layout.ListenPidIndex] = int32(fields.listenPidIndex, 'listenPidIndex');
  layout[Layout.WatchdogPidIndex] = int32(fields.watchdogPidIndex, 'watchdogPidIndex');
  layout[Layout.CgroupFd] = int32(fields.cgroupFd, 'cgroupFd');
  layout[Layout.CgroupProcsFd] = int32(fields.cgroupProcsFd, 'cgroupProcsFd');
  layout[Layout.Nfds] = fds.length;
  for (let i = 0; i < fds.length; i++) layout[Layout.Fds + i] = int32(fds[i] as number, 'fds[i]');
  // each string ended by a NUL byte: C counts them, so one that holds a NUL is refused, never split in two
  const joined = env.length === 0 ? '' : `${env.join('\0')}\0`;
  named(() => addon().spawn(program, fields.envBase, joined, layout));
  return [layout[Layout.Pid] as number, layout[Layout.Pidfd] as number, clockMs(layout[Layout.ExecSeconds] as number, layout[Layout.ExecNanoseconds] as number)];
}

/** A one-off spawn: its program prepared for it alone. */
export const spawnNative = (spec: NativeSpawnSpec): [number, number, number] => spawnProgram(prepareProgram(spec), spec);
export const prepareStrings: NativeAddon['prepareStrings'] = (...args) => named(() => addon().prepareStrings(...args));
export const watchExit: NativeAddon['watchExit'] = (...args) => named(() => addon().watchExit(...args));
export const sendSignal: NativeAddon['sendSignal'] = (...args) => named(() => addon().sendSignal(...args));
export const signalGroup: NativeAddon['signalGroup'] = (...args) => named(() => addon().signalGroup(...args));
export const getgrouplist: NativeAddon['getgrouplist'] = (...args) => named(() => addon().getgrouplist(...args));
export const lookupUser: NativeAddon['lookupUser'] = (...args) => named(() => addon().lookupUser(...args));
export const lookupGroup: NativeAddon['lookupGroup'] = (...args) => named(() => addon().lookupGroup(...args));
export const setChildSubreaper: NativeAddon['setChildSubreaper'] = (...args) => named(() => addon().setChildSubreaper(...args));
export const reapPid: NativeAddon['reapPid'] = (...args) => named(() => addon().reapPid(...args));
export const reapEnded: NativeAddon['reapEnded'] = (keep) => named(() => addon().reapEnded(keep));
export const yieldProcessor: NativeAddon['yieldProcessor'] = () => addon().yieldProcessor();
export const listenInet: NativeAddon['listenInet'] = (...args) => named(() => addon().listenInet(...args));
export const listenUnix = (path: string, backlog: number, mode: number, rights: FsRights | null): number =>
  named(() => addon().listenUnix(path, backlog, mode, tupleOf(rights)));
export const pipe: NativeAddon['pipe'] = () => named(() => addon().pipe());
export const acceptSend: NativeAddon['acceptSend'] = (...args) => named(() => addon().acceptSend(...args));
export const lockFd: NativeAddon['lockFd'] = (...args) => named(() => addon().lockFd(...args));
export const openAt = (dirFd: number, name: string, flags: number, mode: number, rights: FsRights | null = null): number =>
  named(() => addon().openAt(dirFd, name, flags, mode, tupleOf(rights)));
export const lstatAt = (dirFd: number, name: string, rights: FsRights | null): [number, bigint, bigint] | null =>
  named(() => addon().lstatAt(dirFd, name, tupleOf(rights)));
export const accessAt = (dirFd: number, name: string, mode: number, rights: FsRights | null): void =>
  named(() => addon().accessAt(dirFd, name, mode, tupleOf(rights)));
export const unlinkAt = (dirFd: number, name: string, rights: FsRights | null): boolean => named(() => addon().unlinkAt(dirFd, name, tupleOf(rights)));
export const renameAt = (dirFd: number, from: string, to: string, rights: FsRights | null): boolean =>
  named(() => addon().renameAt(dirFd, from, to, tupleOf(rights)));
export const notifySocket: NativeAddon['notifySocket'] = (...args) => named(() => addon().notifySocket(...args));
export const notifyWatch: NativeAddon['notifyWatch'] = (...args) => named(() => addon().notifyWatch(...args));
export const notifyClose: NativeAddon['notifyClose'] = (...args) => named(() => addon().notifyClose(...args));
export const notifySend: NativeAddon['notifySend'] = (...args) => named(() => addon().notifySend(...args));
export const eventfd: NativeAddon['eventfd'] = () => named(() => addon().eventfd());
export const watchFd: NativeAddon['watchFd'] = (...args) => named(() => addon().watchFd(...args));
export const unwatchFd: NativeAddon['unwatchFd'] = (...args) => named(() => addon().unwatchFd(...args));
export const rlimitResources = (): NativeAddon['rlimitResources'] => addon().rlimitResources;
export const lockedProgram = (): string | null => addon().lockedProgram;

/** Why the addon cannot be loaded (its one error, naming where it looked), or null when it can. */
export function addonLoadError(): string | null {
  try {
    addon();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** fstat(2)'s link count, called as readAt is: on an open /proc/<pid>/task, 2 plus the process's threads now. */
export function linkCount(fd: number): number {
  try {
    return addon().linkCount(fd);
  } catch (error) {
    throw withErrnoName(error);
  }
}

export const pageSize = (): number => addon().pageSize;

/** pread(2), called with its arguments as they are (no closure, no rest array): the tree sampler's read, dozens a
 * sample (kernel/proctree.ts). */
export function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
  try {
    return addon().readAt(fd, buffer, offset, length, position);
  } catch (error) {
    throw withErrnoName(error);
  }
}
