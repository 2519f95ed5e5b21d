// `angel bench`: real cycles of real fixtures, the table and the exports they give, and how a run ends when the
// program fails or angel bench is interrupted. Figures are asserted only where the fixture fixes them (a start
// that sleeps a known time); the statistics and the probe's parsing are table-tested.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import type { HyperfineResult } from '../../src/face/bench-report.js';
import { parseProbe } from '../../src/core/probe.js';
import { median, outliers, summarize } from '../../src/core/stats.js';
import { treePids } from '../../src/kernel/proctree.js';
import { AngelRun, fixture, fixtureSource } from '../helpers/events.js';
import { freePort } from '../../support/net.js';
import { gone } from '../helpers/proc.js';
import { scratchDir } from '../helpers/cleanup.js';

const scratch = scratchDir('angel-bench-test-');
const SERVER = fixtureSource('http-server.mjs');
const bench = (args: readonly string[]): AngelRun => new AngelRun(['bench', ...args], { json: false });

/** hyperfine's names for a command's figures, in seconds. */
type Hyperfine = Omit<HyperfineResult, 'command'>;

interface Exported {
  phases: Record<string, Hyperfine & { samples: Array<{ totalMs: number; angelMs: number | null; programMs?: number; overlapped?: boolean }> }>;
  results: HyperfineResult[];
  memory: { samples: Array<{ cycle: number; generation: number; peakRssBytes: number }>; notMeasured: number };
  probe: { requests: number; failed: number } | null;
}

describe('angel bench', () => {
  test('a program ready after a known delay: start and restart take at least the delay, angel\'s share a part of each; every phase has --runs samples', async () => {
    const [json, markdown, csv] = [join(scratch, 'delay.json'), join(scratch, 'delay.md'), join(scratch, 'delay.csv')];
    const delayMs = 300;
    const run = bench(['-r', '3', '-w', '1', '--ready', 'fd', '--export-json', json, '--export-markdown', markdown, '--export-csv', csv,
      '--', fixture('ready-after'), String(delayMs), '16']);
    assert.equal(await run.status(30_000), 0, run.stderrText.join('\n'));
    const report = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    assert.deepEqual(Object.keys(report.phases), ['start', 'restart', 'reload', 'stop']);
    for (const [phase, { samples }] of Object.entries(report.phases)) assert.equal(samples.length, 3, phase);
    for (const phase of ['start', 'restart', 'reload']) {
      const samples = report.phases[phase]?.samples ?? [];
      for (const sample of samples) assert.ok(sample.totalMs >= delayMs, `${phase} ${sample.totalMs} ms, shorter than the program's own start`);
      // the split falls at the exec on angel's own clock, so the program's part holds its whole start-up in every
      // cycle, however late a loaded machine delivers the events
      for (const sample of samples) assert.ok((sample.programMs as number) >= delayMs, `${phase}: the program's part, ${sample.programMs} ms, does not hold its ${delayMs} ms`);
      // angel's share is a part of each total, never more (how small it is, is the benchmarks' to say)
      for (const sample of samples) assert.ok((sample.angelMs as number) >= 0 && (sample.angelMs as number) <= sample.totalMs, `${phase}: angel's share ${sample.angelMs} of ${sample.totalMs} ms`);
    }
    // three generations a cycle (start, after the crash, after the reload), each holding 16 MiB
    assert.equal(report.memory.samples.length, 9);
    for (const { peakRssBytes } of report.memory.samples) assert.ok(peakRssBytes >= 16 * 2 ** 20, `peak ${peakRssBytes}`);

    const table = run.stdout.items.join('\n');
    for (const row of [/start \(spawn → ready\)\s+3\s/, /restart \(SIGKILL → ready\)\s+3\s/, /reload \(SIGHUP → ready, old gone\)\s+3\s/,
      /stop \(SIGTERM → tree gone\)\s+3\s/, /peak memory \(per generation\)\s+9\s/]) assert.match(table, row);
    assert.match(readFileSync(markdown, 'utf8'), /^\| start \(spawn → ready\) \| 3 \| [\d.]+ ms ± [\d.]+ ms \|/m);
    assert.doesNotMatch(run.stderrText.join('\n'), /--ready exec/, 'no warning about readiness at exec');

    // hyperfine's names beside angel's own, in seconds; exit_codes those of the generations each phase ended
    // (the fixture exits 0 on SIGTERM; SIGKILL leaves no code, null as hyperfine writes it; a start ends none)
    const codes: Record<string, Array<number | null>> = { start: [null, null, null], restart: [null, null, null], reload: [0, 0, 0], stop: [0, 0, 0] };
    for (const [phase, figures] of Object.entries(report.phases)) {
      assert.deepEqual(figures.times, figures.samples.map((sample) => sample.totalMs / 1000), phase);
      const sorted = [...figures.times].sort((a, b) => a - b);
      assert.equal(figures.median, sorted[1], phase);
      assert.deepEqual([figures.min, figures.max], [sorted[0], sorted[2]], phase);
      assert.ok(Math.abs(figures.mean - figures.times.reduce((sum, time) => sum + time, 0) / 3) < 1e-12, phase);
      assert.ok(figures.stddev >= 0, phase);
      assert.deepEqual(figures.exit_codes, codes[phase], phase);
    }
    assert.deepEqual(report.results.map((result) => result.command.split(':')[0]), ['start', 'restart', 'reload', 'stop']);
    assert.equal(report.results[0]?.mean, report.phases.start?.mean);
    const [head, ...lines] = readFileSync(csv, 'utf8').trimEnd().split('\n');
    assert.equal(head, 'command,mean,stddev,median,user,system,min,max');
    assert.deepEqual(lines.map((line) => line.split(',')[0]?.split(':')[0]), ['start', 'restart', 'reload', 'stop']);
    for (const [index, line] of lines.entries()) {
      const result = report.results[index] as Hyperfine;
      assert.deepEqual(line.split(',').slice(1).map((cell) => (cell === '' ? null : Number(cell))), [result.mean, result.stddev, result.median, null, null, result.min, result.max]);
    }
  });

  test('--ready exec: each generation\'s memory is read once it has run a --sample-interval, never at its exec', async () => {
    const json = join(scratch, 'exec.json');
    // step touches 16 MiB as it starts; at its exec the kernel counts a few pages of it
    const run = bench(['-r', '2', '--sample-interval', '500', '--export-json', json, '--', fixture('step'), '16']);
    assert.equal(await run.status(30_000), 0, run.stderrText.join('\n'));
    const report = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    assert.equal(report.memory.notMeasured, 0);
    assert.equal(report.memory.samples.length, 6);
    for (const { peakRssBytes } of report.memory.samples) assert.ok(peakRssBytes >= 16 * 2 ** 20, `peak ${peakRssBytes}`);
  });

  test('with --listen the reload overlaps, and --probe counts every request during it: none fails', async () => {
    const port = await freePort();
    const json = join(scratch, 'listen.json');
    const run = bench(['--runs', '2', '--listen', `127.0.0.1:${port}`, '--ready', 'fd', '--probe', `http://127.0.0.1:${port}/`,
      '--export-json', json, '--', process.execPath, SERVER]);
    assert.equal(await run.status(60_000), 0, run.stderrText.join('\n'));
    const report = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    for (const sample of report.phases.reload?.samples ?? []) assert.equal(sample.overlapped, true, 'the old one served until the next was ready');
    assert.ok((report.probe?.requests ?? 0) >= 4, 'one answer before and one after each reload, at least');
    assert.equal(report.probe?.failed, 0);
    assert.match(run.stdout.items.join('\n'), new RegExp(`probe http://127.0.0.1:${port}/: \\d+ requests during 2 reloads, 0 failed`));
  });

  test('a program that crashes at start ends the run with a clear message, its status and its last output', async () => {
    const crash = bench(['--ready', 'fd', '--', 'sh', '-c', 'echo "cannot open config" >&2; exit 3']);
    assert.equal(await crash.status(), 3);
    const said = crash.stderrText.join('\n');
    assert.match(said, /^angel bench: sh \(generation 0, pid \d+\) exited with code 3 during the start of cycle 1$/m);
    assert.match(said, /^ {2}cannot open config$/m);
    assert.equal(crash.stdout.items.length, 0, 'no table');

    const missing = bench(['--', join(scratch, 'no-such-program')]);
    assert.equal(await missing.status(), 127);
    assert.match(missing.stderrText.join('\n'), /no-such-program: execve: ENOENT/);

    const script = join(scratch, 'not-executable');
    writeFileSync(script, '#!/bin/sh\n');
    const denied = bench(['--', script]);
    assert.equal(await denied.status(), 126);
    assert.match(denied.stderrText.join('\n'), /EACCES/);
  });

  test('a program never ready ends the run with angel\'s reason and the status of its kill', async () => {
    const run = bench(['--ready', 'fd', '--ready-timeout', '200', '--', fixture('ready-after'), '100000']);
    assert.equal(await run.status(), 137);
    assert.match(run.stderrText.join('\n'), /died of SIGKILL during the start of cycle 1 \(angel: generation 0 not ready within 200 ms; killing it\)/);
  });

  test('bad bench flags: one line naming the flag and the value, exit 2, nothing started', async () => {
    const port = await freePort();
    for (const [args, flag] of [
      [['--runs', '0'], '--runs'],
      [['--warmup', 'many'], '--warmup'],
      [['--probe', 'http://10.0.0.1/'], '--probe'],
      [['--probe', 'udp:53'], '--probe'],
      [['--export-json', join(scratch, 'no-such-dir', 'x.json')], '--export-json'],
      [['--export-markdown', scratch], '--export-markdown'],
    ] as const) {
      const run = bench([...args, '--', fixture('ready-after'), '0']);
      assert.equal(await run.status(), 2, args.join(' '));
      assert.equal(run.stderrText.length, 1, run.stderrText.join('\n'));
      assert.match(run.stderrText[0] ?? '', new RegExp(`^angel: ${flag}: .*got `));
    }
    // a probe nothing answers is the bench's configuration at fault: the same status, naming it
    const deaf = bench(['--ready', 'fd', '--probe', `tcp:${port}`, '--', fixture('ready-after'), '0']);
    assert.equal(await deaf.status(), 2);
    assert.match(deaf.stderrText.join('\n'), new RegExp(`--probe tcp:127.0.0.1:${port}: .*ECONNREFUSED.*before the reload of cycle 1`));
  });

  test('SIGINT midway: the program and its whole tree are stopped, nothing is exported, status 130', async () => {
    const json = join(scratch, 'interrupted.json');
    const run = bench(['--runs', '100000', '--ready', 'delay:20', '--export-json', json, '--', fixture('forker')]);
    const seen = new Set<number>();
    // the tree comes and goes with the cycles: gather what it held for a while, grandchildren included
    const deadline = Date.now() + 10_000;
    while (seen.size < 6) {
      assert.ok(Date.now() < deadline, `saw only ${[...seen].join(', ')}`);
      for (const pid of treePids(run.process.pid as number).slice(1)) seen.add(pid);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    run.signal('SIGINT');
    assert.equal(await run.status(), 130);
    assert.match(run.stderrText.join('\n'), /^angel bench: interrupted by SIGINT; the program was stopped and nothing was exported$/m);
    for (const pid of seen) assert.equal(await gone(pid), true, `pid ${pid} outlived angel bench`);
    assert.throws(() => readFileSync(json), { code: 'ENOENT' });
  });
});

describe('bench statistics and probe targets', () => {
  test('summaries and hyperfine\'s outlier rule', () => {
    const summary = summarize([4, 1, 3, 2]);
    assert.deepEqual([summary.min, summary.max, summary.mean, summary.median], [1, 4, 2.5, 2]);
    assert.ok(Math.abs(summary.sd - Math.sqrt(5 / 3)) < 1e-12, 'the sample standard deviation');
    assert.equal(summarize([7]).sd, 0);
    assert.equal(median([4, 1, 3, 2]), 2.5, 'hyperfine\'s median: the mean of the two middle values of an even count');
    assert.equal(median([3, 1, 2]), 2);
    assert.ok(Number.isNaN(median([])));
    assert.deepEqual(outliers([10, 10.1, 9.9, 10.2, 9.8, 10, 40]), [6], 'one far sample');
    assert.deepEqual(outliers([10, 11, 12, 13, 14, 15, 16]), [], 'a spread without a far one');
    assert.deepEqual(outliers([5, 5, 5, 5, 9]), [], 'no spread to judge by');
  });

  test('--probe: tcp:PORT or http:// on loopback, nothing else', () => {
    assert.deepEqual(parseProbe('tcp:8080'), { kind: 'tcp', host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseProbe('tcp:[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080 });
    const http = parseProbe('http://localhost:8080/health?x=1');
    assert.equal(http.kind === 'http' && http.url.href, 'http://localhost:8080/health?x=1');
    for (const bad of ['tcp:0', 'tcp:70000', 'tcp:example.com:80', 'https://127.0.0.1/', 'http://192.168.1.1/', 'http://u:p@127.0.0.1/', '8080']) {
      assert.throws(() => parseProbe(bad), (error: unknown) => error instanceof UsageError && error.flag === '--probe', bad);
    }
  });
});
