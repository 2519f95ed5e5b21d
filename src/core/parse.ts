// Pure: the parsers of every option's value, from a flag (a string) or a config file (any JSON), and the
// bounds on what may be handed in. Each error names the flag or key and the value.
import { parseListen, parseMetrics, type ListenSpec } from './addresses.js';
import { UsageError } from './errors.js';
import {
  isRlimitName, parseCount, parseDuration, parseRlimitSpec, parseRlimitValue, parseSize, RLIMIT_NAMES, type Rlimit, type Rlimits,
} from './limits.js';
import { parseReady, type ReadyMode } from './readiness.js';
import { parseSignal } from './signames.js';

export function size(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string' && parseSize(value, name) > 0) return parseSize(value, name);
  throw new UsageError(name, value, 'expected a size above 0 such as 512M or 1.5G');
}

export function count(value: unknown, name: string, min: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  if (typeof value === 'string') return parseCount(value, name, min);
  throw new UsageError(name, value, `expected a whole number${min > 0 ? ` >= ${min}` : ''}`);
}

// Bounds on the size of what a config file (or the API) can hand in, each refused as a usage error naming the key
// rather than failing later as a TypeError from the addon, or a stack overflow in an error that shows the value.

/** The addon's spawn takes at most 1 << 20 argv strings, the program's name among them. */
export const MAX_ARGS = (1 << 20) - 1;
/** The addon's spawn takes at most 1 << 20 envp strings, and angel's own environment shares them: execve(2) caps
 * that at ~700k strings (6 MiB of strings and pointers, at least 9 bytes each), so 1 << 18 more always fit. */
export const MAX_ENV = 1 << 18;
/** The addon's spawn maps at most 1024 fds, and the sockets share them with fds 0-2 and --ready fd's pipe; 1000
 * leaves a margin. */
export const MAX_LISTEN = 1000;
/** The deepest value a key takes is 2 levels (rlimits: { nofile: { soft, hard } }). JSON nested thousands deep
 * overflows the stack of whatever walks it (String() of an array, JSON.stringify when an error shows it). */
export const MAX_NESTING = 8;

/** Node's timers hold a signed 32-bit delay: a longer one fires after 1 ms (TimeoutOverflowWarning), so a kill
 * timeout of 3e9 ms would SIGKILL at once and a sample interval of 3e9 would sample every millisecond. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration in ms: a number (of ms, or of seconds with `unitMs` 1000) or a text with units (`5s`, `1m30s`). */
export function milliseconds(value: unknown, name: string, min: number, unitMs = 1): number {
  const ms = typeof value === 'string' ? parseDuration(value, name, unitMs) : count(value, name, min) * unitMs;
  const unit = unitMs === 1000 ? 's' : 'ms';
  if (ms < min * unitMs || ms > MAX_TIMER_MS) throw new UsageError(name, value, `expected a duration from ${min} ${unit} to ${MAX_TIMER_MS} ms (24.8 days)`);
  return ms;
}

/** A duration in whole seconds (--restart-window): a number of seconds, or a text with units. */
export function seconds(value: unknown, name: string, min: number): number {
  const ms = milliseconds(value, name, min, 1000);
  if (ms % 1000 !== 0) throw new UsageError(name, value, 'expected whole seconds (1m30s, 90, 90s)');
  return ms / 1000;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(name, value, `expected one of ${allowed.join(', ')}`);
}

// A NUL byte cannot reach execve(2) or a path: refused here, not as a TypeError from the addon at spawn.
export const hasNul = (value: string): boolean => value.includes('\0');

export function text(value: unknown, name: string): string {
  if (typeof value === 'string' && value !== '' && !hasNul(value)) return value;
  throw new UsageError(name, value, 'expected a non-empty string without NUL bytes');
}

/** uid_t and gid_t are 32 bits and setuid(2) takes (uid_t)-1 as "no change": a larger id wraps, and
 * getpwnam(4294967296) answers with root's entry. */
const MAX_ID = 2 ** 32 - 2;

export function identity(value: unknown, name: string): string | number {
  const id = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null;
  if (id !== null) {
    if (Number.isInteger(id) && id >= 0 && id <= MAX_ID) return id;
    throw new UsageError(name, value, `expected a name or a numeric id from 0 to ${MAX_ID}`);
  }
  if (typeof value === 'string' && value !== '' && !hasNul(value)) return value;
  throw new UsageError(name, value, 'expected a name or a numeric id');
}

function rlimitEntry(name: string, value: unknown, flag: string): Rlimit {
  if (!isRlimitName(name)) throw new UsageError(flag, name, `unknown rlimit; known: ${RLIMIT_NAMES.join(', ')}`);
  if (typeof value === 'number' || typeof value === 'string') {
    const limit = parseRlimitValue(name, String(value), flag);
    return { soft: limit, hard: limit };
  }
  if (value && typeof value === 'object' && 'soft' in value && 'hard' in value) {
    return parseRlimitSpec(`${name}=${String(value.soft)}:${String(value.hard)}`, flag).limit;
  }
  throw new UsageError(flag, value, 'expected a limit, "unlimited" or { soft, hard }');
}

export function rlimits(value: unknown, name: string): Rlimits {
  const result: Rlimits = {};
  if (Array.isArray(value)) {
    for (const spec of value) {
      const { name: limitName, limit } = parseRlimitSpec(text(spec, name), name);
      result[limitName] = limit;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, limit] of Object.entries(value)) {
      // keyed by the lowercase name, as parseRlimitSpec does: spawn reads only those, and would ignore `NOFILE`
      const limitName = key.toLowerCase();
      result[limitName as keyof Rlimits] = rlimitEntry(limitName, limit, name);
    }
  } else {
    throw new UsageError(name, value, 'expected name=soft[:hard] specs or an object of limits');
  }
  return result;
}

/** A name or a number; anything else is refused, not coerced (String() would let `["TERM"]` pass as TERM). */
export function signal(value: unknown, name: string): NodeJS.Signals {
  if (typeof value === 'string' || typeof value === 'number') return parseSignal(String(value), name);
  throw new UsageError(name, value, 'expected a signal such as SIGTERM, TERM or 15');
}

export function flag(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new UsageError(name, value, 'expected true or false');
}

export function environment(value: unknown, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  // a list or an object of strings: anything deeper is refused before a String() of it recurses its depth
  if (nestedDeeper(value, 1)) throw new UsageError(name, value, 'expected KEY=VALUE entries with string values');
  const variables = Array.isArray(value) ? value.length : value && typeof value === 'object' ? Object.keys(value).length : 0;
  if (variables > MAX_ENV) throw new UsageError(name, variables, `expected at most ${MAX_ENV} variables`);
  const entries = Array.isArray(value)
    ? value.map((item) => {
        const match = typeof item === 'string' ? /^([^=]+)=(.*)$/s.exec(item) : null;
        if (!match) throw new UsageError(name, item, 'expected KEY=VALUE');
        return [match[1] ?? '', match[2] ?? ''] as const;
      })
    : value && typeof value === 'object'
      ? Object.entries(value)
      : null;
  if (!entries) throw new UsageError(name, value, 'expected KEY=VALUE entries');
  for (const [key, item] of entries) {
    if (typeof item !== 'string' || key === '' || key.includes('=') || hasNul(key) || hasNul(item)) {
      throw new UsageError(name, `${key}=${String(item)}`, 'expected KEY=VALUE with a string value, no NUL bytes');
    }
    // assigning `__proto__` to an object sets no property: the variable would vanish without a word
    if (key === '__proto__') throw new UsageError(name, `${key}=${item}`, 'expected a variable name other than __proto__');
    result[key] = item;
  }
  return result;
}

/** An --env-file: its path, and whether a missing file is skipped (a `-` before it, systemd's EnvironmentFile=). */
export interface EnvFileSpec {
  path: string;
  optional: boolean;
  /** As given: `-/etc/app/env`. */
  text: string;
}

/** Each file is opened and read at every start and reload: a bound on how many a config may name. */
const MAX_ENV_FILES = 64;

export function envFiles(value: unknown, name: string): EnvFileSpec[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new UsageError(name, value, 'expected a path, or a list of paths');
  if (list.length > MAX_ENV_FILES) throw new UsageError(name, list.length, `expected at most ${MAX_ENV_FILES} files`);
  return list.map((item) => {
    const given = text(item, name);
    const optional = given.startsWith('-');
    const path = optional ? given.slice(1) : given;
    if (path === '') throw new UsageError(name, given, 'expected a path after the -');
    return { path, optional, text: given };
  });
}

export function listenSpecs(value: unknown, name: string): ListenSpec[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new UsageError(name, value, 'expected [host:]port or unix:/path entries');
  if (list.length > MAX_LISTEN) throw new UsageError(name, list.length, `expected at most ${MAX_LISTEN} sockets`);
  const specs = list.map((item, index) => parseListen(text(item, name), index, name));
  const names = new Set(specs.map((spec) => spec.name));
  if (names.size !== specs.length) throw new UsageError(name, value, 'expected distinct socket names');
  return specs;
}

/** A socket file's permission bits: set through the umask at bind, so there are no setuid, setgid or sticky
 * bits to give (and a socket has no use for them). */
export function fileMode(value: unknown, name: string): number {
  const mode = typeof value === 'number' ? value : typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value) ? parseInt(value, 8) : NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new UsageError(name, value, 'expected an octal mode from 0000 to 0777 such as 0660');
  return mode;
}

/** Whether objects or arrays nest more than `levels` deep; the walk stops there, so its own stack stays shallow. */
export function nestedDeeper(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  return Object.values(value).some((item) => nestedDeeper(item, levels - 1));
}

/** A --ready mode, from its text. */
export function readyMode(value: unknown, name: string): ReadyMode {
  return parseReady(text(value, name), name);
}

/** A --metrics address, from its text. */
export function metricsAddress(value: unknown, name: string): ListenSpec {
  return parseMetrics(text(value, name), name);
}
