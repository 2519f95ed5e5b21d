// Pure parsing of sizes and rlimit specs. Every error names the input it could not read.
import { UsageError } from './errors.js';

/** RLIM_INFINITY, as the addon takes it. */
export const UNLIMITED = -1;

export interface Rlimit {
  /** bytes, seconds or a count; UNLIMITED (-1) for RLIM_INFINITY */
  soft: number;
  hard: number;
}

export const RLIMIT_NAMES = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss',
  'rtprio', 'rttime', 'sigpending', 'stack',
] as const;
export type RlimitName = (typeof RLIMIT_NAMES)[number];
export type Rlimits = Partial<Record<RlimitName, Rlimit>>;

/** The limits measured in bytes, which take size suffixes (setrlimit(2)). */
const BYTE_LIMITS: ReadonlySet<RlimitName> = new Set(['as', 'core', 'data', 'fsize', 'memlock', 'msgqueue', 'rss', 'stack']);

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
// 512M, 1.5G, 64KiB, 100MB (binary too: a size is always binary), 4096, 4096B
const SIZE = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?$/i;

/** Parses a size in bytes: a whole number, or a number with a binary suffix K, M, G, T (KiB and KB alike). */
export function parseSize(text: string, flag = 'size'): number {
  const match = SIZE.exec(text.trim());
  if (!match) throw new UsageError(flag, text, 'expected a size such as 4096, 512M, 1.5G or 64KiB');
  const [, number = '', unit = ''] = match;
  const multiplier = UNITS[unit.toUpperCase()] ?? 1;
  if (multiplier === 1 && number.includes('.')) {
    throw new UsageError(flag, text, 'expected a whole number of bytes (or a suffix: K, M, G, T)');
  }
  const bytes = Math.floor(Number(number) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(flag, text, 'expected a size below 8 PiB');
  return bytes;
}

// Durations as systemd writes them (systemd.time(7)): units ms, s, m (min), h, combinable (`1m30s`, `1min 30s`),
// a fraction of a unit where it comes to whole milliseconds (`1.5s`); a bare number is the option's own unit.
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1, msec: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
};
const DURATION_PART = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;

/** A duration in milliseconds: `5000` (bare: `unitMs` each), `5s`, `500ms`, `1m30s`, `1min 30s`, `2h`. */
export function parseDuration(text: string, flag: string, unitMs = 1): number {
  const trimmed = text.trim();
  const unitName = unitMs === 1000 ? 's' : 'ms';
  const expected = `expected a duration: a number of ${unitName === 's' ? 'seconds' : 'ms'}, or with units ms, s, m, h (5s, 1m30s)`;
  if (/^\d+$/.test(trimmed)) {
    const bare = Number(trimmed) * unitMs;
    if (!Number.isSafeInteger(bare)) throw new UsageError(flag, text, expected);
    return bare;
  }
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let part = DURATION_PART.exec(trimmed); part !== null; part = DURATION_PART.exec(trimmed)) {
    const unit = DURATION_UNITS[(part[2] ?? '').toLowerCase()];
    if (unit === undefined) throw new UsageError(flag, text, expected);
    total += Number(part[1]) * unit;
    end = DURATION_PART.lastIndex;
  }
  // 1.1s is 1100.0000000000002 in floating point: whole milliseconds within a rounding error are whole
  const whole = Math.round(total);
  if (end === 0 || end !== trimmed.length || Math.abs(total - whole) > 1e-6 || !Number.isSafeInteger(whole)) throw new UsageError(flag, text, expected);
  return whole;
}

/** Parses a whole, non-negative count (a number of fds, samples, restarts). */
export function parseCount(text: string, flag: string, min = 0): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(flag, text, `expected a whole number${min > 0 ? ` >= ${min}` : ''}`);
  }
  return value;
}

export function isRlimitName(name: string): name is RlimitName {
  return (RLIMIT_NAMES as readonly string[]).includes(name);
}

/** One limit value: `unlimited`/`infinity`, a size for byte limits, or a whole number. */
export function parseRlimitValue(name: RlimitName, text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^(unlimited|infinity)$/i.test(trimmed)) return UNLIMITED;
  return BYTE_LIMITS.has(name) ? parseSize(trimmed, flag) : parseCount(trimmed, flag);
}

/** Compares two limit values where UNLIMITED is the largest. */
function rlimitAbove(a: number, b: number): boolean {
  if (a === b) return false;
  if (a === UNLIMITED) return true;
  if (b === UNLIMITED) return false;
  return a > b;
}

/** Parses `name=soft[:hard]` (`nofile=1024:4096`, `core=unlimited`, `as=2G`); a single value sets both, as prlimit(1) does. */
export function parseRlimitSpec(spec: string, flag = '--rlimit'): { name: RlimitName; limit: Rlimit } {
  const match = /^\s*(?:rlimit_)?([a-z]+)\s*=\s*([^:]+?)\s*(?::\s*(.+?)\s*)?$/i.exec(spec);
  if (!match) throw new UsageError(flag, spec, 'expected name=soft[:hard], e.g. nofile=1024:4096');
  const [, rawName = '', softText = '', hardText] = match;
  const name = rawName.toLowerCase();
  if (!isRlimitName(name)) {
    throw new UsageError(flag, spec, `unknown rlimit "${rawName}"; known: ${RLIMIT_NAMES.join(', ')}`);
  }
  let soft: number, hard: number;
  try {
    soft = parseRlimitValue(name, softText, flag);
    hard = hardText === undefined ? soft : parseRlimitValue(name, hardText, flag);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const unit = BYTE_LIMITS.has(name) ? 'a size (512M, 1.5G)' : 'a whole number';
    throw new UsageError(flag, spec, `expected ${unit} or unlimited for ${name}`);
  }
  if (rlimitAbove(soft, hard)) throw new UsageError(flag, spec, 'expected a soft limit no higher than the hard limit');
  return { name, limit: { soft, hard } };
}
