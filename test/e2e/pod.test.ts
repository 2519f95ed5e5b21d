// angel where containers really run: a simulated pod. angel starts in a cgroup of the test's own with a memory
// limit (the container's), in a private mount namespace whose memory hierarchy is remounted read-only (a pod's
// /sys/fs/cgroup), so it can make no cgroup and watches the container's own counters, itself included. The args
// are those of examples/kubernetes/deployment.yaml. v1 here: these machines bind the memory controller to v1
// (v2's files are read from a laid-out directory in test/kernel/ownmemory.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { capBytes } from '../../src/core/memory.js';
import { AngelRun, fixture, ROOT } from '../helpers/events.js';
import { home, noV1, removeTestCgroup, testCgroup } from '../helpers/cgroup.js';
import { oomKills } from '../../support/cgroup.js';
import { freePort } from '../../support/net.js';
import { scratchDir } from '../helpers/cleanup.js';

const MiB = 2 ** 20;
const scratch = scratchDir('angel-pod-');

/** angel's args in the example Deployment, before its `--`. */
function exampleArgs(): string[] {
  const yaml = readFileSync(join(ROOT, 'examples', 'kubernetes', 'deployment.yaml'), 'utf8');
  const line = /^\s*args: (\[.*\])$/m.exec(yaml)?.[1];
  assert.ok(line, 'the example has its args on one line');
  const args = JSON.parse(line) as string[];
  return args.slice(0, args.indexOf('--'));
}

/** One HTTP GET's body. */
function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('the example image runs as written: its ENTRYPOINT and CMD serve the COPYed server, ready by fd, and a SIGTERM drains it to 0', async () => {
  const dockerfile = readFileSync(join(ROOT, 'examples', 'kubernetes', 'Dockerfile'), 'utf8');
  for (const [, source] of dockerfile.matchAll(/^COPY (\S+) /gm)) {
    if (!source?.endsWith('.tgz')) assert.equal(existsSync(join(ROOT, 'examples', 'kubernetes', source ?? '')), true, `${source} is in the example`);
  }
  const array = (instruction: string): string[] => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(dockerfile)?.[1] ?? '[]') as string[];
  const [angel, ...entrypoint] = array('ENTRYPOINT');
  assert.equal(angel, 'angel');
  const port = await freePort();
  const asHere = (arg: string): string => (arg === '8080' ? `127.0.0.1:${port}` : arg.replace(/^\/srv\//, `${join(ROOT, 'examples', 'kubernetes')}/`));
  // outside a pod there may be no memory limit: 90% is then of the machine's memory, with a warning
  const run = new AngelRun([...entrypoint, ...array('CMD')].map(asHere));
  await run.event('ready', () => true, 20_000);
  assert.equal(await fetchText(port), 'hello\n');
  run.signal('SIGTERM');
  assert.equal(await run.status(20_000), 0, 'the server drained and exited 0, and angel with it');
});

/** Runs as in a pod: the memory hierarchy read-only in a mount namespace of angel's own, angel in `dir`. */
function inPod(dir: string, args: readonly string[]): AngelRun {
  const readOnly = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -o remount,ro,bind "$0" && exec "$@"', home?.mount ?? ''];
  return new AngelRun(args, { cgroup: dir, prefix: readOnly });
}

describe('a simulated pod: a read-only cgroup mount, angel inside the container\'s limit', { skip: noV1 }, () => {
  test('the example\'s invocation: a leak is stopped gracefully at 90% of the limit, before the kernel kills, and the summary is left', async () => {
    const dir = testCgroup(256 * MiB);
    const summary = join(scratch, 'termination-log');
    writeFileSync(summary, '');
    try {
      const args = exampleArgs().filter((arg, index, all) => !['--listen', '--ready'].includes(arg) && !['--listen', '--ready'].includes(all[index - 1] ?? ''));
      assert.deepEqual(args.slice(0, 2), ['--max-mem', '90%']);
      const run = inPod(dir, [...args, '--max-restarts', '0', '--min-uptime', '1m', '--termination-log', summary, '--', fixture('leaker'), '4', '50']);
      const start = await run.event('start', () => true, 20_000);
      assert.equal(start.capBytes, capBytes({ percent: 90 }, 256 * MiB));
      const overrun = await run.event('overrun', () => true, 30_000);
      assert.ok(!overrun.hardKill, 'a graceful stop, not the 1.5x ceiling');
      const exit = await run.event('exit', () => true, 20_000);
      assert.equal(exit.reason, 'overrun');
      assert.equal(exit.signal, 'SIGTERM', 'the stop signal ended it, not the kernel');
      assert.equal(await run.status(20_000), 143, 'a give-up after an overrun: 128 + the stop signal');
      assert.equal(oomKills(dir), 0, 'the kernel killed nothing');
      const text = readFileSync(summary, 'utf8');
      assert.match(text, /^angel exited 143 \(giveup\)\nlast generation 0: overrun \(SIGTERM\) after [\d.]+ s, peak [\d.]+ MiB\ncap 230\.4 MiB of the cgroup's 256\.0 MiB\nrestarts 0\n$/);
    } finally {
      await removeTestCgroup(dir);
    }
  });

  test('the figure is what the kernel would OOM on: a big file read again and again is cache, not an overrun', async () => {
    const dir = testCgroup(128 * MiB);
    const file = join(scratch, 'big');
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=160', 'oflag=direct', 'status=none']);
    try {
      const run = inPod(dir, ['--max-mem', '90%', '--restart', 'never', '--', 'sh', '-c', 'for i in 1 2 3; do cat "$0" > /dev/null; done; echo read', file]);
      assert.equal(await run.line(/^read$/, 30_000), 'read');
      assert.equal(await run.status(20_000), 0);
      assert.equal(run.count('overrun'), 0, 'clean page cache, active or inactive, is reclaimed before an OOM: not counted');
    } finally {
      rmSync(file, { force: true });
      await removeTestCgroup(dir);
    }
  });

  test('--cgroup where the mount is read-only: one warning naming it, and the container\'s own cgroup is watched', async () => {
    const dir = testCgroup(256 * MiB);
    try {
      const run = inPod(dir, ['--cgroup', '--max-mem', '90%', '--max-restarts', '0', '--min-uptime', '1m', '--', fixture('leaker'), '4', '50']);
      const warning = await run.event('warning', (event) => /read-only/.test(event.message as string), 20_000);
      assert.equal(warning.message, `--cgroup: the cgroup mount ${home?.mount} is read-only (EROFS), so generations get no cgroup of their own here; --max-mem watches the cgroup angel runs in, read only`);
      assert.equal((await run.event('exit', () => true, 30_000)).reason, 'overrun');
      assert.equal(await run.status(20_000), 143);
    } finally {
      await removeTestCgroup(dir);
    }
  });

  test('a limit resized in place moves the cap: seen within a second while sampling, and at once on SIGHUP, each a cap event', async () => {
    const dir = testCgroup(256 * MiB);
    try {
      const run = inPod(dir, ['--max-mem', '90%', '--', 'sleep', '1000']);
      await run.event('start', () => true, 20_000);
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(512 * MiB));
      const grown = await run.event('cap', () => true, 10_000);
      assert.deepEqual(grown, { ...grown, capBytes: capBytes({ percent: 90 }, 512 * MiB), previousBytes: capBytes({ percent: 90 }, 256 * MiB), ofBytes: 512 * MiB, source: 'cgroup' });
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(384 * MiB));
      run.signal('SIGHUP');
      const shrunk = await run.event('cap', (event) => event.ofBytes === 384 * MiB, 10_000);
      assert.equal(shrunk.previousBytes, capBytes({ percent: 90 }, 512 * MiB));
      assert.equal((await run.event('start', (event) => event.generation === 1, 10_000)).capBytes, capBytes({ percent: 90 }, 384 * MiB));
      run.signal('SIGTERM');
      assert.equal(await run.status(20_000), 143);
    } finally {
      await removeTestCgroup(dir);
    }
  });

  test('a cap that leaves the program no room above angel\'s own footprint is a usage error naming --max-mem', async () => {
    const dir = testCgroup(64 * MiB);
    try {
      const run = inPod(dir, ['--max-mem', '25%', '--', 'true']);
      assert.equal(await run.status(20_000), 2);
      assert.match(run.stderrText.join('\n'), /^angel: --max-mem: expected a cap that leaves the program at least 16\.0 MiB above what angel and its cgroup already use \([\d.]+ MiB of the limit 64\.0 MiB\), but it is 16\.0 MiB, got "25%"$/m);
    } finally {
      await removeTestCgroup(dir);
    }
  });

  test('the kernel\'s OOM kill is reported as `oom`, without --max-mem or --cgroup too', async () => {
    const dir = testCgroup(160 * MiB);
    try {
      const run = inPod(dir, ['--restart', 'never', '--', fixture('leaker'), '8', '20']);
      const exit = await run.event('exit', () => true, 30_000);
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(exit.reason, 'oom');
      assert.ok(oomKills(dir) >= 1);
      assert.equal(await run.status(20_000), 137);
    } finally {
      await removeTestCgroup(dir);
    }
  });
});
