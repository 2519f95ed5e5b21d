// What counts (core/memory.ts) and where the cgroup is (kernel/cgroup.ts's parser), from the kernel's texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { capBytes, ceilingBytes, limitOf, lowestLimit, memoryCap, nextThreshold, statField, workingSet } from '../../src/core/memory.js';
import { parseMemoryCgroup } from '../../src/kernel/cgroup.js';

const MiB = 2 ** 20;

test('--max-mem takes a size or a percentage above 0 and at most 100', () => {
  assert.deepEqual(memoryCap('80%', '--max-mem'), { percent: 80 });
  assert.deepEqual(memoryCap(' 95.5 % ', '--max-mem'), { percent: 95.5 });
  assert.equal(memoryCap('512M', '--max-mem'), 512 * MiB);
  for (const bad of ['0%', '101%', '-5%', 'x%', '%', '1e2%', '80 %%']) {
    assert.throws(() => memoryCap(bad, '--max-mem'), (error: unknown) => error instanceof UsageError && /percentage/.test(error.message), bad);
  }
  assert.throws(() => memoryCap('lots', '--max-mem'), /or a percentage of the cgroup's limit/);
});

test('a percentage of a limit, in whole pages; the ceiling at 1.5x', () => {
  assert.equal(capBytes({ percent: 50 }, 256 * MiB), 128 * MiB);
  assert.equal(capBytes({ percent: 33 }, 100 * MiB) % 4096, 0);
  assert.equal(capBytes(1234, 99), 1234);
  assert.equal(ceilingBytes(32 * MiB), 48 * MiB);
});

test('limits: max and v1\'s PAGE_COUNTER_MAX are none; the lowest on the path wins', () => {
  assert.equal(limitOf('max\n'), null);
  assert.equal(limitOf('9223372036854771712\n'), null);
  assert.equal(limitOf('67108864\n'), 64 * MiB);
  assert.equal(lowestLimit([null, 64 * MiB, null, 32 * MiB]), 32 * MiB);
  assert.equal(lowestLimit([null, null]), null);
});

test('the working set is usage less the inactive file cache, read from memory.stat', () => {
  const stat = 'cache 100\nrss 5\ninactive_file 4096\nactive_file 9\ntotal_inactive_file 8192\n';
  assert.equal(statField(stat, 'inactive_file'), 4096);
  assert.equal(statField(stat, 'total_inactive_file'), 8192);
  assert.equal(statField(stat, 'cache'), 100);
  assert.equal(statField(stat, 'file'), null);
  assert.equal(statField('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n', 'oom_kill'), 3);
  assert.equal(workingSet(10_000, 8192), 1808);
  assert.equal(workingSet(100, 8192), 0);
});

test('v1 thresholds: just past the cap, then where the working set would pass it after cache-only notices', () => {
  assert.equal(nextThreshold(32 * MiB), 32 * MiB + 1);
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 40 * MiB, workingSetBytes: 10 * MiB }), 62 * MiB + 1);
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 40 * MiB, workingSetBytes: 33 * MiB }), null, 'an overrun: no other needed');
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 20 * MiB, workingSetBytes: 10 * MiB }), null, 'below the cap: the first one stands');
});

test('the memory cgroup from /proc/self/cgroup and mountinfo: v1\'s memory hierarchy first, else v2, mount roots honoured', () => {
  const cgroup = '12:pids:/\n4:memory:/process_api/abc\n0::/\n';
  const mountinfo = [
    '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
    '31 25 0:27 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.deepEqual(parseMemoryCgroup(cgroup, mountinfo), { version: 1, mount: '/sys/fs/cgroup/memory', dir: '/sys/fs/cgroup/memory/process_api/abc' });
  assert.deepEqual(parseMemoryCgroup('0::/system.slice/x.service\n', mountinfo), { version: 2, mount: '/sys/fs/cgroup/unified', dir: '/sys/fs/cgroup/unified/system.slice/x.service' });
  // a container's view: the mount's root is the container's cgroup
  const container = '40 30 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
  assert.deepEqual(parseMemoryCgroup('0::/docker/abc/app\n', container), { version: 2, mount: '/sys/fs/cgroup', dir: '/sys/fs/cgroup/app' });
  assert.equal(parseMemoryCgroup('0::/elsewhere\n', container), null);
  assert.equal(parseMemoryCgroup('4:memory:/x\n', ''), null);
});
