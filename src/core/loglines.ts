// Pure: the child's output as the lines of --log-file. Reads from a pipe become whole lines (an unended line
// is held until its end comes); each line may start with a prefix (the time angel read it, the stream it came
// from); and a batch of lines is cut where a file must be rotated, never inside a line.

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

/** A line longer than this is written in pieces rather than held without end. */
export const MAX_LINE = 64 * 1024;

/** One stream's reads as whole lines. `endPieces`: a piece of an over-long line, and the unended line left at
 * the end, are ended with a newline, as lines of their own; needed where another source shares the file (the
 * other stream, angel's events) or every line gets a prefix. Without it a piece is written as it came, so the
 * line is whole in the file. */
export class LineAssembler {
  #partial: Buffer = EMPTY;

  constructor(readonly endPieces: boolean) {}

  /** What of `chunk` (with the unended line before it) can be written now, or null. */
  take(chunk: Buffer): Buffer | null {
    const data = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk]) : chunk;
    const end = data.lastIndexOf(NEWLINE) + 1;
    this.#partial = data.subarray(end);
    const lines = end > 0 ? data.subarray(0, end) : null;
    if (this.#partial.length <= MAX_LINE) return lines;
    const piece = this.#ended(this.#partial);
    this.#partial = EMPTY;
    return lines ? Buffer.concat([lines, piece]) : piece;
  }

  /** The unended line left when the stream ends, or null. */
  rest(): Buffer | null {
    const rest = this.#partial;
    this.#partial = EMPTY;
    return rest.length > 0 ? this.#ended(rest) : null;
  }

  #ended(piece: Buffer): Buffer {
    return this.endPieces ? Buffer.concat([piece, Buffer.from('\n')]) : piece;
  }
}

const MS_PER_DAY = 86_400_000;
const two = (value: number): string => (value < 10 ? `0${value}` : String(value));

/** A time (ms since the epoch, years 0 to 9999) in ISO 8601 with milliseconds, in UTC, as Date's toISOString
 * writes it: every event line and every --log-timestamps prefix has one. Without a Date: V8 gives a Date its local
 * fields as it is made, and the first one loads ICU's time zone data into every angel (0.8 MB resident), which
 * V8's --no-icu-timezone-data kept out only by changing V8's flag hash, and with it making Node refuse the code
 * cache of each built-in module it loads after its start (compiled from source, then serialized again). The date
 * is the proleptic Gregorian calendar's, counted from 0000-03-01 so that a leap day ends each year (the days of
 * a 400-year era, then of its year, then the month, from March). */
export function isoTime(timeMs: number): string {
  const ms = Math.trunc(timeMs);
  const days = Math.floor(ms / MS_PER_DAY) + 719_468; // 1970-01-01 from 0000-03-01
  const era = Math.floor(days / 146_097);
  const dayOfEra = days - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const fromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * fromMarch + 2) / 5) + 1;
  const month = fromMarch < 10 ? fromMarch + 3 : fromMarch - 9;
  const year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0);
  const inDay = ms - Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
  const [hours, minutes, seconds, millis] = [Math.floor(inDay / 3_600_000), Math.floor(inDay / 60_000) % 60, Math.floor(inDay / 1000) % 60, inDay % 1000];
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${String(millis).padStart(3, '0')}Z`;
}

/** What starts each line: the time in ISO 8601 with milliseconds, in UTC (as the event log's `time`, so the
 * two sort together), then the tag; each followed by a space. Empty without either. */
export function linePrefix(timeMs: number | null, tag: string | null): string {
  let prefix = timeMs === null ? '' : `${isoTime(timeMs)} `;
  if (tag !== null) prefix += `${tag} `;
  return prefix;
}

/** `lines` (whole lines, or a last one unended) with `prefix` before each. */
export function prefixLines(lines: Buffer, prefix: string): Buffer {
  if (prefix === '') return lines;
  const head = Buffer.from(prefix);
  const parts: Buffer[] = [];
  for (let at = 0; at < lines.length;) {
    const newline = lines.indexOf(NEWLINE, at);
    const end = newline === -1 ? lines.length : newline + 1;
    parts.push(head, lines.subarray(at, end));
    at = end;
  }
  return Buffer.concat(parts);
}

/** One write of a batch: bytes [start, end), into a fresh file when `rotateFirst`. */
export interface WriteStep {
  rotateFirst: boolean;
  start: number;
  end: number;
}

/** How `data` is written so that no file passes `maxBytes` unless one line alone does: into the current file
 * (`size` bytes, ending inside a line when `midLine`) as far as whole lines fit, then into fresh files. A line
 * is never split across two files: the rest of an unended one goes where its start went, and a line longer
 * than `maxBytes` fills a file of its own. */
export function planRotation(data: Buffer, size: number, maxBytes: number, midLine: boolean): WriteStep[] {
  const steps: WriteStep[] = [];
  let at = 0;
  let current = size;
  let rotateFirst = false;
  if (midLine) {
    const newline = data.indexOf(NEWLINE);
    at = newline === -1 ? data.length : newline + 1;
    steps.push({ rotateFirst: false, start: 0, end: at });
    current += at;
  }
  while (at < data.length) {
    const room = maxBytes - current;
    let end = data.length - at <= room ? data.length : room > 0 ? data.lastIndexOf(NEWLINE, at + room - 1) + 1 : 0;
    if (end <= at) {
      if (current > 0) {
        rotateFirst = true;
        current = 0;
        continue;
      }
      const newline = data.indexOf(NEWLINE, at);
      end = newline === -1 ? data.length : newline + 1;
    }
    steps.push({ rotateFirst, start: at, end });
    rotateFirst = false;
    current += end - at;
    at = end;
  }
  return steps;
}
