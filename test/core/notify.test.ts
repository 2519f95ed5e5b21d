// The pure parts of sd_notify and of the metrics: messages read and written, angel's manager's watchdog, the
// strict exposition parser against prom-client's own output and against what the format forbids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ExpositionError, parseExposition, sampleValue } from '../../src/core/exposition.js';
import { formatNotify, managerWatchdogMs, parseNotify, refusalOf, watchdogAfter } from '../../src/core/notify.js';

test('parseNotify: what angel acts on, the rest ignored as systemd does', () => {
  const none = { ready: false, reloading: false, stopping: false, watchdog: null, watchdogMs: null, status: null };
  const table: Array<[string, object | null]> = [
    ['READY=1', { ...none, ready: true }],
    ['READY=1\nSTATUS=serving 3 clients', { ...none, ready: true, status: 'serving 3 clients' }],
    ['STATUS=a=b', { ...none, status: 'a=b' }],
    ['RELOADING=1\nMONOTONIC_USEC=123', { ...none, reloading: true }],
    ['STOPPING=1', { ...none, stopping: true }],
    ['WATCHDOG=1', { ...none, watchdog: 'ping' }],
    ['WATCHDOG=trigger\nWATCHDOG=1', { ...none, watchdog: 'trigger' }],
    ['WATCHDOG_USEC=1500', { ...none, watchdogMs: 2 }],
    ['WATCHDOG_USEC=0', none], ['WATCHDOG_USEC=-5', none], ['WATCHDOG_USEC=99999999999999999999', none],
    ['READY=0', none], ['READY=yes', none], ['MAINPID=1\nERRNO=2\nFDSTORE=1', none], ['', none], ['\n\n=x\nREADY', none],
    ['READY=1\0', null],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseNotify(text), expected, JSON.stringify(text));
});

test('formatNotify: one assignment a line; a value cannot break its line', () => {
  assert.equal(formatNotify({ READY: 1, STATUS: 'two\nlines\0' }), 'READY=1\nSTATUS=two lines ');
});

test('managerWatchdogMs: WATCHDOG_USEC, for angel only when WATCHDOG_PID names it', () => {
  assert.equal(managerWatchdogMs({ WATCHDOG_USEC: '2000000' }, 10), 2000);
  assert.equal(managerWatchdogMs({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '10' }, 10), 2000);
  assert.equal(managerWatchdogMs({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '11' }, 10), null);
  assert.equal(managerWatchdogMs({ WATCHDOG_USEC: '0' }, 10), null);
  assert.equal(managerWatchdogMs({ WATCHDOG_USEC: 'x' }, 10), null);
  assert.equal(managerWatchdogMs({}, 10), null);
});

test('parseExposition reads prom-client\'s output: counters with labels, gauges, histograms with their suffixes, escapes', async () => {
  const register = new Registry();
  new Counter({ name: 'c_total', help: 'a "counter"\nwith a break', labelNames: ['reason'], registers: [register] }).inc({ reason: 'a\\b"c\nd' }, 2);
  new Gauge({ name: 'g', help: 'g', registers: [register] }).set(-1.5e-3);
  new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [register] }).observe(0.5);
  const families = parseExposition(await register.metrics());
  assert.deepEqual(families.map((family) => [family.name, family.type]), [['c_total', 'counter'], ['g', 'gauge'], ['h_seconds', 'histogram']]);
  assert.equal(families[0]?.help, 'a "counter"\nwith a break');
  assert.equal(sampleValue(families, 'c_total', { reason: 'a\\b"c\nd' }), 2);
  assert.equal(sampleValue(families, 'g'), -1.5e-3);
  assert.equal(sampleValue(families, 'h_seconds_bucket', { le: '0.1' }), 0);
  assert.equal(sampleValue(families, 'h_seconds_bucket', { le: '+Inf' }), 1);
  assert.equal(families[2]?.samples.length, 5, 'three buckets, the sum and the count belong to the histogram');
});

test('parseExposition refuses what the format does not allow, naming the line', () => {
  const bad: Array<[string, RegExp]> = [
    ['x 1 2 3', /line 1: expected a value and an optional timestamp/],
    ['x one', /line 1: not a float/],
    ['x{a="b} 1', /line 1: unterminated label value/],
    ['x{a="\\q"} 1', /line 1: bad escape/],
    ['x{a="1",a="2"} 1', /line 1: label a twice/],
    ['x{1a="1"} 1', /line 1: expected label="value"/],
    ['x 1\n# TYPE x gauge', /line 2: TYPE twice or after samples/],
    ['# TYPE x gauge\n# TYPE x counter', /line 2: TYPE twice/],
    ['# TYPE x meter', /line 1: unknown type/],
    ['# HELP x a\n# HELP x b', /line 2: HELP twice/],
    ['9x 1', /line 1: expected a metric name/],
    ['x{a="b"}1', /line 1: expected a value/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseExposition(text), (error: Error) => error instanceof ExpositionError && message.test(error.message), text);
  assert.deepEqual(parseExposition('# a comment\n\nx 1 1700000000000\ny NaN\nz +Inf\nw Nan\nv -inf\n').map((family) => family.samples[0]?.value), [1, NaN, Infinity, NaN, -Infinity]);
});

test('refusalOf: credentials, membership, size and NUL, in that order', () => {
  const message = parseNotify('READY=1');
  assert.equal(refusalOf({ pid: 0, owned: false }, false, message, 3), 'no sender credentials');
  assert.equal(refusalOf({ pid: 42, owned: false }, false, message, 3), 'pid 42 is not of generation 3\'s processes');
  assert.equal(refusalOf({ pid: 42, owned: true }, true, null, 3), 'longer than 4096 bytes');
  assert.equal(refusalOf({ pid: 42, owned: true }, false, null, 3), 'a NUL byte');
  assert.equal(refusalOf({ pid: 42, owned: true }, false, message, 3), null);
});

test('watchdogAfter: a ping or a new period re-arms, a trigger hangs, a stop is judged by its deadline', () => {
  const of = (text: string) => parseNotify(text) as NonNullable<ReturnType<typeof parseNotify>>;
  assert.deepEqual(watchdogAfter(of('WATCHDOG=1'), 500, false), { periodMs: 500, rearm: true, hang: false });
  assert.deepEqual(watchdogAfter(of('WATCHDOG_USEC=2000000'), 500, false), { periodMs: 2000, rearm: true, hang: false });
  assert.deepEqual(watchdogAfter(of('WATCHDOG_USEC=2000000'), null, false), { periodMs: null, rearm: false, hang: false }, 'no watchdog asked: none started');
  assert.deepEqual(watchdogAfter(of('WATCHDOG=trigger'), 500, false), { periodMs: 500, rearm: false, hang: true });
  assert.deepEqual(watchdogAfter(of('WATCHDOG=1'), 500, true), { periodMs: 500, rearm: false, hang: false }, 'while stopping');
  assert.deepEqual(watchdogAfter(of('STATUS=x'), 500, false), { periodMs: 500, rearm: false, hang: false });
});
