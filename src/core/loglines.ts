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

/** What starts each line: the time in ISO 8601 with milliseconds, in UTC (as the event log's `time`, so the
 * two sort together), then the tag; each followed by a space. Empty without either. */
export function linePrefix(timeMs: number | null, tag: string | null): string {
  let prefix = timeMs === null ? '' : `${new Date(timeMs).toISOString()} `;
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
