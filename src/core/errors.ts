// One error class per concept, and the exit statuses they map to.

/** Bad input from a flag or a config key: exit status 2, one line naming the flag and the value. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    // the flag can be a config file's path and key, and `expected` can quote the input too (JSON.parse's message)
    super(`${truncate(oneLine(flag), MAX_SHOWN, Buffer.byteLength(flag))}: ${oneLine(expected)}, got ${showValue(value)}`);
  }
}

/** Nothing to run at all: `missing <program> (usage: …)`, exit status 2, from `angel` and `angel check` alike. */
export class MissingProgramError extends UsageError {
  constructor(usage: string) {
    super('<program>', undefined, 'missing');
    this.message = `missing <program> (usage: ${usage})`;
  }
}

/** A command line of another shape than angel's (a mistyped command, a program without `--` before it): exit
 * status 2, one line that shows the line as it was most likely meant. */
export class CommandLineError extends UsageError {
  constructor(word: string, message: string) {
    super('<command>', word, 'unknown');
    this.message = message;
  }
}

/** The most characters of a value (or a config key) an error shows: a 10 MB value still makes one readable line. */
export const MAX_SHOWN = 200;

// What JSON.stringify leaves raw but a terminal or a line reader may take as a line break or a control: DEL,
// the C1 controls (U+0085 is NEL) and the Unicode line and paragraph separators. The C0 controls are escaped
// here too, for text that is not JSON.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every line break and control character escaped, so it cannot end the line it is in. */
export function oneLine(text: string): string {
  return text.replace(CONTROLS, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// What JSON.stringify leaves raw of those: DEL, the C1 controls (CSI is U+009B) and the line separators.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/** JSON that prints no control character: the C0 ones are escaped by JSON.stringify, the rest here (still
 * valid JSON, the same value). */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `1 restart`, `2 restarts`: a count with its noun in the right number. */
export function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/** At most `max` characters of escaped text, with `…` and the whole length in bytes when it is longer; never
 * cuts through an escape (`\n`, `\u001b`) or a surrogate pair. */
export function truncate(text: string, max = MAX_SHOWN, bytes?: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (;;) {
    const code = text.charCodeAt(end);
    const step = code === 0x5c ? (text[end + 1] === 'u' ? 6 : 2) : code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    if (end + step > max) break;
    end += step;
  }
  return `${text.slice(0, end)}…(${bytes ?? Buffer.byteLength(text)} bytes)`;
}

/** The value as JSON where JSON can say it; NaN, Infinity, undefined and bigints as themselves (JSON.stringify
 * would print `null`, nothing, or throw a TypeError in place of the usage error). */
function showValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    // a cycle (TypeError), or a value nested too deep for the stack (RangeError)
    return Object.prototype.toString.call(value);
  }
  // a string's own size says more than its JSON's, which counts the quotes and escapes
  return truncate(oneLine(json), MAX_SHOWN, typeof value === 'string' ? Buffer.byteLength(value) : undefined);
}

/** A spawn that failed before or at exec, with the failing step and the errno name (ENOENT, EACCES, EPERM). */
export class SpawnError extends Error {
  override name = 'SpawnError';
  constructor(
    readonly program: string,
    readonly step: string,
    readonly code: string,
    readonly errno: number | undefined,
    detail?: string,
  ) {
    super(`spawn ${program}: ${step}: ${code}${detail ? ` (${detail})` : ''}`);
  }
}

/** angel refuses to do what it was asked for security reasons (the root rule): exit status 126. */
export class PermissionError extends Error {
  override name = 'PermissionError';
}

export const EXIT_USAGE = 2;
export const EXIT_NOT_EXECUTABLE = 126;
const EXIT_NOT_FOUND = 127;

/** The shell's convention, which tini and dumb-init keep: 127 not found, 126 found but not runnable. */
export function exitStatusForSpawnError(error: SpawnError): number {
  if (error.step === 'execve' || error.step === 'open') {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return EXIT_NOT_FOUND;
    return EXIT_NOT_EXECUTABLE;
  }
  return EXIT_NOT_EXECUTABLE;
}

/** `angel status` could not read a running angel (no such pid, no control socket, a refused metrics address):
 * exit status 1. */
export class StatusError extends Error {
  override name = 'StatusError';
}
