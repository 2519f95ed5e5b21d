// The lines of --log-file, pure: reads cut into whole lines, each line's prefix, and where a batch is cut for
// a rotation by size, row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime, LineAssembler, linePrefix, MAX_LINE, planRotation, prefixLines, type WriteStep } from '../../src/core/loglines.js';

const text = (buffer: Buffer | null): string | null => buffer && buffer.toString('latin1');

test('reads become whole lines; an unended line waits for its end, and is given at the end of the stream', () => {
  const rows: Array<{ endPieces: boolean; chunks: string[]; taken: Array<string | null>; rest: string | null }> = [
    { endPieces: false, chunks: ['a\nb', 'c\n'], taken: ['a\n', 'bc\n'], rest: null },
    { endPieces: false, chunks: ['no end'], taken: [null], rest: 'no end' },
    { endPieces: true, chunks: ['no end'], taken: [null], rest: 'no end\n' },
    { endPieces: false, chunks: ['x', 'y', '\n\n'], taken: [null, null, 'xy\n\n'], rest: null },
    { endPieces: true, chunks: ['1\n2\n3'], taken: ['1\n2\n'], rest: '3\n' },
  ];
  for (const row of rows) {
    const lines = new LineAssembler(row.endPieces);
    assert.deepEqual(row.chunks.map((chunk) => text(lines.take(Buffer.from(chunk)))), row.taken, JSON.stringify(row));
    assert.equal(text(lines.rest()), row.rest, JSON.stringify(row));
    assert.equal(lines.rest(), null, 'the rest is given once');
  }
});

test('a line past MAX_LINE goes in pieces: as it came, or each ended as a line of its own', () => {
  const long = 'x'.repeat(MAX_LINE + 10);
  const plain = new LineAssembler(false);
  assert.equal(text(plain.take(Buffer.from(`a\n${long}`))), `a\n${long}`, 'the piece follows the whole lines, unended');
  assert.equal(text(plain.take(Buffer.from('tail\n'))), 'tail\n', 'and the rest of the line follows it in the file');

  const ended = new LineAssembler(true);
  assert.equal(text(ended.take(Buffer.from(long))), `${long}\n`);
  assert.equal(text(ended.take(Buffer.from('tail\n'))), 'tail\n');
});

test('the prefix: an ISO 8601 time in UTC with milliseconds, then the tag, each followed by a space', () => {
  const at = Date.UTC(2026, 11, 1, 9, 30, 0, 7);
  assert.equal(linePrefix(at, 'out'), '2026-12-01T09:30:00.007Z out ');
  assert.equal(linePrefix(at, null), '2026-12-01T09:30:00.007Z ');
  assert.equal(linePrefix(null, 'err'), 'err ');
  assert.equal(linePrefix(null, null), '');
});

test('every line gets the prefix, an unended last one too; no prefix leaves the bytes as they are', () => {
  const rows: Array<[string, string, string]> = [
    ['a\nb\n', 'T ', 'T a\nT b\n'],
    ['a\n\nb', 'T ', 'T a\nT \nT b'],
    ['', 'T ', ''],
    ['a\nb\n', '', 'a\nb\n'],
  ];
  for (const [lines, prefix, expected] of rows) assert.equal(text(prefixLines(Buffer.from(lines), prefix)), expected, JSON.stringify([lines, prefix]));
});

test('a batch is cut for rotation only between lines, and no file passes the size unless one line alone does', () => {
  const step = (rotateFirst: boolean, start: number, end: number): WriteStep => ({ rotateFirst, start, end });
  // lines of 4 bytes: 'aaa\n'
  const four = (count: number): Buffer => Buffer.from('aaa\n'.repeat(count));
  const rows: Array<{ what: string; data: Buffer; size: number; max: number; midLine?: boolean; steps: WriteStep[] }> = [
    { what: 'all fits', data: four(2), size: 0, max: 8, steps: [step(false, 0, 8)] },
    { what: 'fits exactly after what is there', data: four(1), size: 4, max: 8, steps: [step(false, 0, 4)] },
    { what: 'the lines that fit, then a fresh file', data: four(3), size: 4, max: 8, steps: [step(false, 0, 4), step(true, 4, 12)] },
    { what: 'a full file: a fresh one first', data: four(1), size: 8, max: 8, steps: [step(true, 0, 4)] },
    { what: 'several files in one batch', data: four(5), size: 0, max: 8, steps: [step(false, 0, 8), step(true, 8, 16), step(true, 16, 20)] },
    { what: 'a line does not fit in the room left: never split', data: Buffer.from('aaaaaa\n'), size: 4, max: 8, steps: [step(true, 0, 7)] },
    { what: 'a line longer than the size fills a file of its own', data: Buffer.from('aaaaaaaaaaa\nb\n'), size: 0, max: 8, steps: [step(false, 0, 12), step(true, 12, 14)] },
    { what: 'the rest of an unended line goes where its start went', data: Buffer.from('aa\nb\n'), size: 8, max: 8, midLine: true, steps: [step(false, 0, 3), step(true, 3, 5)] },
    { what: 'a piece without an end, past the size in a file with lines', data: Buffer.from('aaaaaaaaaa'), size: 4, max: 8, steps: [step(true, 0, 10)] },
  ];
  for (const row of rows) {
    const steps = planRotation(row.data, row.size, row.max, row.midLine ?? false);
    assert.deepEqual(steps, row.steps, row.what);
    // whatever the row: the steps cover the batch in order, and each cut is at the end of a line
    assert.equal(steps.map((each) => each.end - each.start).reduce((sum, bytes) => sum + bytes, 0), row.data.length, row.what);
    for (const each of steps.slice(0, -1)) assert.equal(row.data[each.end - 1], 0x0a, `${row.what}: cut after a newline`);
  }
});

test('isoTime writes what toISOString writes: each leap-year rule, the ends of days, months and years, years 0 to 9999', () => {
  const day = 86_400_000;
  const at = (iso: string): number => Date.parse(iso);
  const edges = ['1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2000-02-29T12:00:00.000Z', '2000-03-01T00:00:00.000Z',
    '1900-02-28T23:59:59.999Z', '1900-03-01T00:00:00.000Z', '2100-02-28T00:00:00.001Z', '2024-02-29T23:59:59.999Z',
    '2026-12-31T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '0000-02-29T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
  for (const iso of edges) assert.equal(isoTime(at(iso)), iso);
  // every day of four centuries around now, at a time of day that moves through the hours
  for (let time = at('1900-01-01T00:00:00.000Z'), step = day + 3_600_000 + 61_001; time < at('2300-01-01T00:00:00.000Z'); time += step) {
    assert.equal(isoTime(time), new Date(time).toISOString());
  }
  assert.equal(isoTime(at('2026-12-01T09:30:00.007Z') + 0.9), '2026-12-01T09:30:00.007Z', 'a fraction of a millisecond is cut, as a Date cuts it');
});
