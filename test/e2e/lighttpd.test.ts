// Real lighttpd (Debian's package: `apt-get install lighttpd`) under angel with held sockets: lighttpd's own
// socket activation (server.systemd-socket-activation) and its graceful stop on SIGINT. Without lighttpd on
// PATH the test is skipped, saying so; in CI (CI=true; .ci/run installs it) it fails instead, so CI always runs it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveProgram } from '../../src/kernel/spawn.js';
import { AngelRun } from '../helpers/events.js';
import { needs } from '../helpers/skip.js';
import { freePort } from '../../support/net.js';
import { loadDuring } from '../../support/load.js';
import { scratchDir } from '../helpers/cleanup.js';

/** lighttpd's path, found on PATH as angel itself finds a program (execvp's rule), or null. */
function onPath(name: string): string | null {
  try {
    return resolveProgram(name, process.env.PATH, undefined);
  } catch {
    return null;
  }
}

const LIGHTTPD = onPath('lighttpd');
const MISSING = 'needs lighttpd on PATH (apt-get install lighttpd), not found';

test('lighttpd serves a file and survives 10 reloads under load with zero failed requests', { skip: needs(LIGHTTPD ? false : MISSING) }, async (t) => {
  assert.ok(LIGHTTPD, `${MISSING}: CI installs it (.ci/run), and must run this test`);
  const port = await freePort();
  const dir = scratchDir('angel-lighttpd-');
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', 'index.html'), 'generation lighttpd\n');
  const config = join(dir, 'lighttpd.conf');
  writeFileSync(config, [
    `server.document-root = "${join(dir, 'www')}"`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    'server.systemd-socket-activation = "enable"',
    `server.errorlog = "${join(dir, 'error.log')}"`,
    'index-file.names = ("index.html")',
    '',
  ].join('\n'));

  const run = new AngelRun(['--listen', `127.0.0.1:${port}`, '--stop-signal', 'SIGINT', '--', LIGHTTPD, '-D', '-f', config]);
  await run.event('ready');
  const load = loadDuring(t, run, port);
  // ready at exec (lighttpd writes no ready line): answers say it has its handlers, SIGINT's among them
  await load.answered(5);
  const exits = await run.reloads(10, () => load.answered(5));
  assert.deepEqual(exits.map((exit) => exit.code), Array(10).fill(0), 'each old lighttpd finished gracefully on SIGINT');
  const result = await load.stop();
  // SIGINT is lighttpd's graceful stop (SIGTERM is its immediate one); angel forwards the signal it got
  run.signal('SIGINT');
  assert.equal(await run.status(), 0);
  assert.equal(result.failed, 0, result.errors.join('; '));
  assert.equal(result.generations.get('lighttpd'), result.ok, 'every answer was the file');
  assert.ok(result.ok >= 50);
  assert.equal(run.count('start'), 11);
});
