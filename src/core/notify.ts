// Pure: sd_notify(3)'s messages, read and written. A datagram is newline-separated VARIABLE=VALUE
// assignments; a manager acts on those it knows and ignores the rest, as systemd does. A child tells angel
// READY=1, RELOADING=1, STOPPING=1, STATUS=…, WATCHDOG=1 (or =trigger) and WATCHDOG_USEC=…; angel tells its
// own manager the same words about itself.
import { oneLine } from './errors.js';

export interface NotifyMessage {
  ready: boolean;
  /** The program is reloading its own configuration (until its next READY=1). */
  reloading: boolean;
  /** The program is shutting down on its own. */
  stopping: boolean;
  /** WATCHDOG=1 keeps it alive; WATCHDOG=trigger asks to be treated as hung at once. */
  watchdog: 'ping' | 'trigger' | null;
  /** WATCHDOG_USEC=: the program asks for another watchdog period (ms, rounded up). */
  watchdogMs: number | null;
  /** STATUS=: free text for a person, the latest one wins; its control characters escaped (it is shown on
   * terminals, in logs and in metrics, and a child could send escape sequences). */
  status: string | null;
}

/** The longest watchdog period a Node timer holds (2^31-1 ms); a longer WATCHDOG_USEC= is clamped to it. */
const MAX_PERIOD_MS = 2 ** 31 - 1;

/** A datagram's text as a message; null when it cannot be one (a NUL byte: systemd drops those too). */
export function parseNotify(text: string): NotifyMessage | null {
  if (text.includes('\0')) return null;
  const message: NotifyMessage = { ready: false, reloading: false, stopping: false, watchdog: null, watchdogMs: null, status: null };
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const name = line.slice(0, equals);
    const value = line.slice(equals + 1);
    switch (name) {
      case 'READY':
        if (value === '1') message.ready = true;
        break;
      case 'RELOADING':
        if (value === '1') message.reloading = true;
        break;
      case 'STOPPING':
        if (value === '1') message.stopping = true;
        break;
      case 'WATCHDOG':
        if (value === '1') message.watchdog ??= 'ping';
        if (value === 'trigger') message.watchdog = 'trigger';
        break;
      case 'WATCHDOG_USEC':
        if (/^\d{1,16}$/.test(value) && Number(value) > 0) message.watchdogMs = Math.min(MAX_PERIOD_MS, Math.ceil(Number(value) / 1000));
        break;
      case 'STATUS':
        message.status = oneLine(value);
        break;
    }
  }
  return message;
}

/** What angel sends its own manager, one assignment a line; a value cannot break its line. */
export function formatNotify(fields: Readonly<Record<string, string | number>>): string {
  return Object.entries(fields).map(([name, value]) => `${name}=${String(value).replace(/[\n\0]/g, ' ')}`).join('\n');
}

/** The period angel's own manager asks for (WATCHDOG_USEC, and WATCHDOG_PID naming angel when set), in ms;
 * null when it asks for none (sd_watchdog_enabled(3)). */
export function managerWatchdogMs(env: Readonly<Record<string, string | undefined>>, pid: number): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^\d{1,16}$/.test(usec) || Number(usec) === 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return null;
  return Math.min(MAX_PERIOD_MS, Math.max(1, Math.floor(Number(usec) / 1000)));
}

/** Why a datagram on a generation's NOTIFY_SOCKET is not taken, or null when it is: it must carry the sender's
 * credentials (the kernel vouches for the pid), come from a process of the generation (systemd's
 * NotifyAccess=all, within its family: core/orphans.ts), fit angel's 4 KiB and hold no NUL byte. */
export function refusalOf(sender: { pid: number; owned: boolean }, truncated: boolean, message: NotifyMessage | null, generation: number): string | null {
  if (sender.pid === 0) return 'no sender credentials';
  if (!sender.owned) return `pid ${sender.pid} is not of generation ${generation}'s processes`;
  if (truncated) return 'longer than 4096 bytes';
  return message === null ? 'a NUL byte' : null;
}

/** What a taken message does to the watchdog (sd_watchdog_enabled(3)): WATCHDOG_USEC= sets a new period where
 * there is one, WATCHDOG=1 or a new period starts it again, WATCHDOG=trigger is a hang at once. A generation
 * being stopped is judged by its kill deadline, not its watchdog. */
export function watchdogAfter(message: NotifyMessage, periodMs: number | null, stopping: boolean): { periodMs: number | null; rearm: boolean; hang: boolean } {
  const period = message.watchdogMs !== null && periodMs !== null ? message.watchdogMs : periodMs;
  const hang = message.watchdog === 'trigger';
  return { periodMs: period, rearm: !hang && !stopping && period !== null && (message.watchdog === 'ping' || message.watchdogMs !== null), hang };
}
