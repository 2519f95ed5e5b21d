// --rewrite <from>:<to>: the pure table, then real signals to a real angel and the trapper fixture, which prints
// every signal it gets.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { formatRewrites, rewrites, rewriteSignal } from '../../src/core/rewrite.js';
import { AngelRun, fixture } from '../helpers/events.js';
import { scratchDir } from '../helpers/cleanup.js';

/** An angel that is killed when its test ends, should an assertion fail first. */
function angel(t: TestContext, args: string[]): AngelRun {
  const run = new AngelRun(args);
  t.after(() => run.kill());
  return run;
}

describe('the table', () => {
  test('specs, a list of them or an object; names, short names and numbers', () => {
    assert.deepEqual(rewrites('SIGTERM:SIGINT', '--rewrite'), { SIGTERM: 'SIGINT' });
    assert.deepEqual(rewrites(['TERM:INT', '12:28'], '--rewrite'), { SIGTERM: 'SIGINT', SIGUSR2: 'SIGWINCH' });
    assert.deepEqual(rewrites({ SIGHUP: 'SIGUSR1', quit: 3 }, 'angel.json: rewrite'), { SIGHUP: 'SIGUSR1', SIGQUIT: 'SIGQUIT' });
    const table = rewrites(['SIGTERM:SIGINT'], '--rewrite');
    assert.equal(rewriteSignal(table, 'SIGTERM'), 'SIGINT');
    assert.equal(rewriteSignal(table, 'SIGINT'), 'SIGINT', 'what is not rewritten passes as it came');
    assert.deepEqual(formatRewrites(table), ['SIGTERM:SIGINT']);
  });

  const bad: Array<[unknown, RegExp]> = [
    ['SIGTERM', /expected <from>:<to>/],
    ['SIGTERM:SIGINT:SIGKILL', /expected <from>:<to>/],
    ['SIGTERM:SIGNOPE', /expected a signal/],
    ['SIGSEGV:SIGTERM', /expected a signal angel passes on/],
    ['SIGCHLD:SIGTERM', /expected a signal angel passes on/],
    [['SIGTERM:SIGINT', 'TERM:QUIT'], /expected one rewrite of SIGTERM/],
    [42, /expected <from>:<to>/],
    [[['SIGTERM', 'SIGINT']], /expected <from>:<to>/],
  ];
  for (const [value, message] of bad) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(() => rewrites(value, '--rewrite'), (error: unknown) => error instanceof UsageError && error.flag === '--rewrite' && message.test(error.message));
    });
  }
});

describe('delivery', () => {
  test('SIGTERM:SIGINT: a SIGTERM to angel is a shutdown the child sees as SIGINT; the cause stays SIGTERM', async (t) => {
    const run = angel(t, ['--rewrite', 'SIGTERM:SIGINT', '--', fixture('trapper'), '5']);
    await run.line(/^ready/);
    run.signal('SIGTERM');
    await run.line(/^got SIGINT$/);
    assert.equal(await run.status(), 5);
    assert.equal(run.stdout.items.includes('got SIGTERM'), false, 'the child never saw SIGTERM');
    assert.equal((await run.event('exit')).reason, 'shutdown');
    assert.equal((await run.event('shutdown')).cause, 'SIGTERM');
  });

  test('the escalation is unchanged: the rewritten signal, SIGCONT, then SIGKILL at --kill-timeout', async (t) => {
    const run = angel(t, ['--rewrite', 'SIGTERM:SIGINT', '--kill-timeout', '300', '--', fixture('trapper'), 'ignore']);
    await run.line(/^ready/);
    run.signal('SIGTERM');
    await run.line(/^got SIGCONT$/);
    assert.equal(await run.status(), 137);
    assert.deepEqual(run.stdout.items.slice(1), ['got SIGINT', 'got SIGCONT']);
    assert.equal((await run.event('exit')).signal, 'SIGKILL');
  });

  test('forwarded signals are rewritten, each by its own rule; others pass as they came', async (t) => {
    const run = angel(t, ['--rewrite', 'SIGUSR2:SIGWINCH', '--rewrite', 'QUIT:USR2', '--', fixture('trapper'), '0']);
    await run.line(/^ready/);
    run.signal('SIGUSR2');
    await run.line(/^got SIGWINCH$/);
    run.signal('SIGQUIT');
    await run.line(/^got SIGUSR2$/);
    run.signal('SIGUSR1');
    await run.line(/^got SIGUSR1$/);
    run.signal('SIGTERM');
    assert.equal(await run.status(), 0);
    assert.deepEqual(run.stdout.items.slice(1), ['got SIGWINCH', 'got SIGUSR2', 'got SIGUSR1', 'got SIGTERM']);
  });

  test('with --reload signal, SIGHUP is forwarded as its rewrite; without, it still reloads', async (t) => {
    const forwarded = angel(t, ['--reload', 'signal', '--rewrite', 'HUP:USR2', '--', fixture('trapper'), '0']);
    await forwarded.line(/^ready/);
    forwarded.signal('SIGHUP');
    await forwarded.line(/^got SIGUSR2$/);
    forwarded.signal('SIGTERM');
    assert.equal(await forwarded.status(), 0);
    // counted once angel is gone: its event lines (stderr) and the child's (stdout) arrive in no set order
    assert.equal(forwarded.count('start'), 1, 'no reload');

    const reloaded = angel(t, ['--rewrite', 'HUP:USR2', '--', fixture('trapper'), '0']);
    await reloaded.line(/^ready \d+ generation 0$/);
    reloaded.signal('SIGHUP');
    await reloaded.line(/^ready \d+ generation 1$/);
    assert.equal(reloaded.stdout.items.includes('got SIGUSR2'), false);
    reloaded.signal('SIGTERM');
    assert.equal(await reloaded.status(), 0);
  });

  test('a bad rewrite is one line naming the flag and the value, exit 2', async () => {
    const run = new AngelRun(['--rewrite', 'SIGSEGV:SIGTERM', '--', 'true'], { json: false });
    assert.equal(await run.status(), 2);
    assert.deepEqual(run.stderrText.length, 1);
    assert.match(run.stderrText[0] ?? '', /^angel: --rewrite: expected a signal angel passes on .*, got "SIGSEGV:SIGTERM"$/);
  });

  test('a config file\'s rewrite object; angel check shows the rewrites as they are written', async () => {
    const file = join(scratchDir('angel-rewrite-'), 'angel.json');
    writeFileSync(file, JSON.stringify({ program: 'true', rewrite: { TERM: 'INT' } }));
    const run = new AngelRun(['check', '--config', file], { json: false });
    assert.equal(await run.status(), 0, run.stderrText.join('\n'));
    assert.deepEqual((JSON.parse(run.stdout.items.join('\n')) as { rewrite: string[] }).rewrite, ['SIGTERM:SIGINT']);
  });
});
