// What counts (core/memory.ts) and where the cgroup is (kernel/cgroup.ts's parser), from the kernel's texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { capBytes, ceilingBytes, delayAfter, earlyThreshold, limitOf, lowestLimit, memoryCap, nextSample, nextThreshold, paceOf, resolveCap, statField, unreclaimable, watchModeOf } from '../../src/core/memory.js';
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

test('--max-mem below 1M is refused: a bare number is bytes, and is asked whether it meant MiB', () => {
  for (const [value, hint] of [['100', 'did you mean 100M?'], [100, 'did you mean 100M?'], [' 1048575 ', 'did you mean 1048575M?'], ['512K', null], ['100B', null], ['0.5M', null]] as const) {
    assert.throws(() => memoryCap(value, '--max-mem'), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^--max-mem: expected a cap of at least 1M/);
      if (hint === null) assert.doesNotMatch(error.message, /did you mean/);
      else assert.ok(error.message.includes(`(a number alone is bytes: ${hint})`), error.message);
      return true;
    }, String(value));
  }
  assert.equal(memoryCap('1M', '--max-mem'), MiB);
  assert.equal(memoryCap(MiB, '--max-mem'), MiB);
  assert.equal(memoryCap('1024K', '--max-mem'), MiB);
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

test('memory.stat\'s fields, by name', () => {
  const stat = 'cache 100\nrss 5\ninactive_file 4096\nactive_file 9\ntotal_inactive_file 8192\n';
  assert.equal(statField(stat, 'inactive_file'), 4096);
  assert.equal(statField(stat, 'total_inactive_file'), 8192);
  assert.equal(statField(stat, 'cache'), 100);
  assert.equal(statField(stat, 'file'), null);
  assert.equal(statField('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n', 'oom_kill'), 3);
});

test('v1 thresholds: just past the cap, then where the working set would pass it after cache-only notices', () => {
  assert.equal(nextThreshold(32 * MiB), 32 * MiB + 1);
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 40 * MiB, figureBytes: 10 * MiB }), 62 * MiB + 1);
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 40 * MiB, figureBytes: 33 * MiB }), null, 'an overrun: no other needed');
  assert.equal(nextThreshold(32 * MiB, { usageBytes: 20 * MiB, figureBytes: 10 * MiB }), null, 'below the cap: the first one stands');
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

test('unreclaimable: usage less clean page cache (active or not) and reclaimable slab; shmem, dirty and writeback stay', () => {
  const v2 = ['anon 100000000', 'file 60000000', 'kernel 9000000', 'shmem 20000000', 'file_dirty 1000000', 'file_writeback 500000',
    'active_file 30000000', 'inactive_file 10000000', 'slab_reclaimable 3000000', 'slab_unreclaimable 2000000'].join('\n');
  // 172 MB charged: 60 MB of file, of which 20 shmem, 1 dirty, 0.5 writeback: 38.5 MB clean; 3 MB reclaimable slab
  assert.equal(unreclaimable(2, 172_000_000, v2), 172_000_000 - 38_500_000 - 3_000_000);
  const v1 = ['cache 5', 'rss 5', 'total_cache 60000000', 'total_rss 100000000', 'total_shmem 20000000', 'total_dirty 1000000',
    'total_writeback 500000', 'total_inactive_file 10000000', 'total_active_file 28500000'].join('\n');
  assert.equal(unreclaimable(1, 160_000_000, v1), 160_000_000 - 38_500_000, 'v1 reads the hierarchy\'s total_ fields');
  assert.equal(unreclaimable(2, 1000, 'file 5000\n'), 0, 'never below 0');
  assert.equal(unreclaimable(2, 1000, ''), 1000, 'a stat without the fields: the usage');
  // tmpfs and memfd memory is shmem: it counts, as the kernel cannot reclaim it without swap
  assert.equal(unreclaimable(2, 50 * MiB, `file ${40 * MiB}\nshmem ${40 * MiB}\n`), 50 * MiB);
});

test('resolveCap and watchModeOf: a size, a share of the cgroup\'s limit, or of the machine\'s memory where none is set', () => {
  assert.deepEqual(resolveCap(64 * MiB, 256 * MiB, 1024 * MiB), { capBytes: 64 * MiB, ofBytes: null, source: 'size' });
  assert.deepEqual(resolveCap({ percent: 90 }, 256 * MiB, 1024 * MiB), { capBytes: capBytes({ percent: 90 }, 256 * MiB), ofBytes: 256 * MiB, source: 'cgroup' });
  assert.deepEqual(resolveCap({ percent: 50 }, null, 1024 * MiB), { capBytes: 512 * MiB, ofBytes: 1024 * MiB, source: 'machine' });
  const rows: Array<[ReturnType<typeof resolveCap>, boolean, string]> = [
    [resolveCap(64 * MiB, null, 0), false, 'tree'], [resolveCap(64 * MiB, null, 0), true, 'cgroup'],
    [resolveCap({ percent: 90 }, 256 * MiB, 0), false, 'container'], [resolveCap({ percent: 90 }, 256 * MiB, 0), true, 'cgroup'],
    [resolveCap({ percent: 90 }, null, 1024 * MiB), false, 'tree'],
  ];
  for (const [cap, cgroups, mode] of rows) assert.equal(watchModeOf(cap, cgroups), mode, `${cap.source} ${cgroups}`);
});

test('the pace: the container\'s figure is read by its headroom and growth, from 10 ms to a second; the tree every interval', () => {
  assert.deepEqual(paceOf('tree', 100), { minMs: 100, maxMs: 100 });
  assert.deepEqual(paceOf('container', 100), { minMs: 10, maxMs: 1000 });
  // with --cgroup the kernel tells up to the early threshold; from there the container's pace
  assert.equal(delayAfter('cgroup', paceOf('cgroup', 100), 230 * MiB, 60 * MiB, 0, null).delayMs, 1000);
  assert.equal(delayAfter('cgroup', paceOf('cgroup', 100), 32 * MiB, 31.5 * MiB, 0, null).delayMs, 10);
  assert.equal(delayAfter('tree', paceOf('tree', 100), 32 * MiB, 31.5 * MiB, 0, null).delayMs, 100);
  assert.deepEqual(paceOf('container', 5000), { minMs: 10, maxMs: 5000 });
  const pace = paceOf('container', 100);
  const cap = 230 * MiB;
  // flat and far below: a second
  const first = nextSample(pace, cap, 60 * MiB, 0, null);
  assert.equal(first.delayMs, 1000);
  // 8 MiB in 50 ms (160 MiB/s): the headroom over twice that
  const leaking = nextSample(pace, cap, 68 * MiB, 50, first.state);
  assert.equal(leaking.delayMs, Math.floor((162 * MiB) / ((2 * 8 * MiB) / 50)));
  // close to the cap at that rate: every few ms, never below the floor
  assert.equal(nextSample(pace, cap, 229 * MiB, 60, leaking.state).delayMs, 10);
  // past it: at once (the floor)
  assert.equal(nextSample(pace, cap, 240 * MiB, 70, leaking.state).delayMs, 10);
  // the growth seen fades by half each sample once it stops
  const still = nextSample(pace, cap, 68 * MiB, 100, leaking.state);
  assert.equal(still.state.rate, leaking.state.rate / 2);
});

test('v1\'s early threshold: a MiB (or 1/64 of the cap) below it, so a step that stops just past the cap is noticed', () => {
  assert.equal(earlyThreshold(32 * MiB), 31 * MiB);
  assert.equal(earlyThreshold(1024 * MiB), 1008 * MiB);
  assert.equal(earlyThreshold(4096), 1);
});
