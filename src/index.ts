// The public API: supervise(options) -> a typed handle. For tools that offer their own --max-mem:
//   const angel = supervise({ program: 'node', args: ['server.js'], maxMem: '512M' });
//   angel.on('overrun', (e) => console.warn(`restarting at ${e.rssBytes} bytes`));
//   process.exitCode = await angel.done;
import { resolveOptions } from './core/options.js';
import type { Options } from './core/types.js';
import { createSupervisor } from './driver/assemble.js';
import type { Supervisor } from './driver/supervisor.js';
import { StatusBoard } from './face/board.js';
import { serveMetrics } from './face/monitoring.js';
import { installSignalHandlers } from './face/signals.js';
import { writeTerminationLog } from './face/termination.js';
import { startingUser } from './driver/launch.js';

export interface SuperviseControl {
  /** Take over this process's signals with angel's semantics (HUP reload, INT/TERM shutdown, others
   * forwarded), as the CLI does. Off by default: a library should not own its host's signals. */
  handleSignals?: boolean;
  /** Adopt and reap the orphans of the child's tree (PR_SET_CHILD_SUBREAPER): they count in --max-mem and are
   * stopped with their generation. Off by default: it makes this process the parent of those orphans. The
   * children of the host's own child_process are never touched. */
  subreaper?: boolean;
}

/** The handle of one supervised program. */
export type Angel = Pick<
  Supervisor,
  'done' | 'state' | 'pid' | 'generation' | 'reload' | 'stop' | 'shutdown' | 'forward' | 'reopenLog' | 'on' | 'once' | 'off'
>;

/**
 * Starts supervising `options.program` on the next tick (attach listeners first).
 * Throws a UsageError (with `flag` and `value`) for options that do not parse.
 */
export function supervise(options: Options, control: SuperviseControl = {}): Angel {
  const forUser = startingUser();
  const supervisor = createSupervisor(resolveOptions(options), forUser, { subreaper: control.subreaper ?? false });
  if (control.handleSignals) {
    const uninstall = installSignalHandlers(supervisor);
    void supervisor.done.then(uninstall);
  }
  const { metrics, terminationLog } = supervisor.options;
  if (terminationLog !== null) writeTerminationLog(supervisor, terminationLog, forUser);
  if (metrics) {
    // served before the start; one that cannot be bound stops the supervisor and is a warning
    void serveMetrics(supervisor, new StatusBoard(supervisor), metrics, forUser).then(
      () => supervisor.start(),
      (error: Error) => supervisor.emit('warning', { message: error.message }),
    );
  } else {
    process.nextTick(() => supervisor.start());
  }
  return supervisor;
}

export { PermissionError, SpawnError, UsageError } from './core/errors.js';
export { parseSize } from './core/limits.js';
export type { Rlimit, RlimitName, Rlimits } from './core/limits.js';
export type {
  AngelEvents, CapEvent, ExitEvent, ExitReason, ExitStatus, GiveupEvent, ListeningEvent, LogEvents, LogFormat, LogLevel, NotifyEvent, Options,
  OverrunEvent, ReadyEvent, ReloadMode, RestartEvent, RestartPolicy, SampleEvent, ShutdownEvent, Size, SpawnErrorEvent,
  StartEvent, State, StateEvent, WarningEvent, WatchdogEvent,
} from './core/types.js';
