// The status report, pure: checked field by field when read from what may be no angel, and printed with every
// control character escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus, managerStatus, parseReport, type StatusReport } from '../../src/core/status.js';

const MiB = 2 ** 20;
const report: StatusReport = {
  angelPid: 7, version: '0.1.0', program: 'node', args: ['server.js'], state: 'running', startedAt: 0, generation: 2, childPid: 42,
  childStartedAt: 60_000, ready: true, rssBytes: 50 * MiB, capBytes: 100 * MiB, restarts: 2, restartsByReason: { crash: 1, overrun: 1 },
  overruns: 1, watchdogMisses: 0, lastExit: { generation: 1, reason: 'overrun', code: null, signal: 'SIGTERM', at: 30_000 }, status: 'serving',
};

test('parseReport: a report as JSON round-trips; anything else is one line naming the first field that is wrong', () => {
  assert.deepEqual(parseReport(JSON.stringify(report)), report);
  const rows: Array<[string, RegExp]> = [
    ['garbage', /the answer is not JSON/], ['null', /the answer's report is missing/], ['[]', /the answer's report is missing/],
    [JSON.stringify({ ...report, angelPid: '7' }), /angelPid/], [JSON.stringify({ ...report, args: [1] }), /args/],
    [JSON.stringify({ ...report, state: 'dancing' }), /state/], [JSON.stringify({ ...report, ready: 'yes' }), /ready/],
    [JSON.stringify({ ...report, lastExit: { generation: 1 } }), /lastExit/], [JSON.stringify({ ...report, restartsByReason: { crash: 'one' } }), /restartsByReason/],
    [JSON.stringify({ ...report, status: 5 }), /status/], [JSON.stringify({ ...report, childPid: '42' }), /childPid/],
  ];
  for (const [text, expected] of rows) assert.throws(() => parseReport(text), expected, text);
});

test('formatStatus: a fact a line, control characters escaped wherever they came from', () => {
  const text = formatStatus(report, 90_000);
  assert.equal(text, [
    'angel 7 (0.1.0), up 1m 30s, running',
    'program     node server.js',
    'generation  2, pid 42, ready, up 30s',
    'memory      50.0 MiB, cap 100.0 MiB (50%)',
    'restarts    2 (crash 1, overrun 1); overruns 1; watchdog misses 0',
    'last exit   generation 1, overrun, SIGTERM, 1m 0s ago',
    'status      serving',
    '',
  ].join('\n'));
  const hostile = formatStatus({ ...report, program: 'evil\u001b]0;title\u0007', args: ['\u009b2J'], status: 'a\nb\r' }, 90_000);
  assert.doesNotMatch(hostile, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(hostile, /^program {5}evil\\u001b\]0;title\\u0007 \\u009b2J$/m);
  assert.match(hostile, /^status {6}a\\nb\\r$/m);
});

test('managerStatus: one line for systemctl status', () => {
  assert.equal(managerStatus(report), 'generation 2, pid 42, 50.0 MiB of 100.0 MiB: serving');
  assert.equal(managerStatus({ ...report, childPid: null, rssBytes: null, status: null, state: 'backoff' }), 'generation 2, backoff');
});
