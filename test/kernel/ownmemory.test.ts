// angel's own memory cgroup, read only: v2's files as the kernel lays them out (these machines' memory
// controller is bound to v1, so v2 is read from a directory laid out in the kernel's format, through the same
// code), and v1 against the real kernel, in a cgroup of the test's own.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OwnMemory, OwnMemoryLookup, resolveMemoryCap } from '../../src/kernel/ownmemory.js';
import { home, noV1, removeTestCgroup, testCgroup } from '../helpers/cgroup.js';
import { scratchDir } from '../helpers/cleanup.js';

const MiB = 2 ** 20;
const scratch = scratchDir('angel-ownmemory-');

/** A v2 hierarchy: mount/pod (memory.max 512M)/container (memory.max as given), angel's cgroup the last. */
function layOut(containerMax: string): { mount: string; container: string } {
  const mount = join(scratch, `v2-${Math.random().toString(16).slice(2)}`);
  const pod = join(mount, 'kubepods', 'pod1');
  const container = join(pod, 'c1');
  mkdirSync(container, { recursive: true });
  writeFileSync(join(pod, 'memory.max'), `${512 * MiB}\n`);
  writeFileSync(join(container, 'memory.max'), `${containerMax}\n`);
  for (const dir of [pod, container]) {
    writeFileSync(join(dir, 'memory.current'), `${200 * MiB}\n`);
    writeFileSync(join(dir, 'memory.stat'), `anon ${100 * MiB}\nfile ${90 * MiB}\nshmem ${30 * MiB}\nfile_dirty 0\nfile_writeback 0\nslab_reclaimable ${10 * MiB}\n`);
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n');
  }
  return { mount, container };
}

test('v2: the limit that binds on the way up, the figure the kernel would OOM on, the OOM kills; a resize is followed', () => {
  const { mount, container } = layOut(`${256 * MiB}`);
  const own = OwnMemory.find({ version: 2, mount, dir: container });
  assert.ok(own);
  try {
    assert.equal(own.limitBytes(), 256 * MiB, 'the container\'s, lower than the pod\'s');
    assert.equal(own.dir, container);
    // 200 MiB charged, 60 MiB of it clean file (90 - 30 shmem), 10 MiB reclaimable slab
    assert.equal(own.figureBytes(), 130 * MiB);
    assert.equal(own.oomKills(), 1);
    assert.deepEqual(resolveMemoryCap({ percent: 90 }, own), { capBytes: Math.floor((256 * MiB * 0.9) / 4096) * 4096, ofBytes: 256 * MiB, source: 'cgroup' });
    // resized in place past the pod's: the pod's limit binds now, and its files are read
    writeFileSync(join(container, 'memory.max'), 'max\n');
    writeFileSync(join(container, '..', 'memory.current'), `${300 * MiB}\n`);
    assert.equal(own.limitBytes(), 512 * MiB);
    assert.equal(own.dir, join(container, '..'));
    assert.equal(own.figureBytes(), 230 * MiB);
    writeFileSync(join(container, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n');
    assert.equal(own.oomKills(), 2, 'the kills are angel\'s own cgroup\'s');
  } finally {
    own.close();
  }
});

test('v2 with no limit anywhere: none, and N% is of the machine', () => {
  const { mount, container } = layOut('max');
  writeFileSync(join(container, '..', 'memory.max'), 'max\n');
  const own = OwnMemory.find({ version: 2, mount, dir: container });
  assert.ok(own);
  try {
    assert.equal(own.limitBytes(), null);
    assert.equal(resolveMemoryCap({ percent: 50 }, own)?.source, 'machine');
  } finally {
    own.close();
  }
});

test('v1, against the kernel: a cgroup of the test\'s own with a limit, its usage and stat read', { skip: noV1 }, async () => {
  const dir = testCgroup(300 * MiB);
  try {
    const own = OwnMemory.find({ version: 1, mount: home?.mount ?? '', dir });
    assert.ok(own);
    try {
      assert.equal(own.limitBytes(), 300 * MiB);
      assert.equal(own.dir, dir);
      assert.ok(own.figureBytes() >= 0);
      assert.equal(own.oomKills(), 0);
    } finally {
      own.close();
    }
  } finally {
    await removeTestCgroup(dir);
  }
});

test('the lookup finds angel\'s own cgroup at the first ask, keeps it, and after close finds nothing', () => {
  const lookup = new OwnMemoryLookup();
  const found = lookup.get();
  const direct = OwnMemory.find();
  assert.equal(found?.dir, direct?.dir, 'what OwnMemory.find finds');
  direct?.close();
  assert.equal(lookup.get(), found, 'the same one, not a second search');
  lookup.close();
  assert.equal(lookup.get(), null);
});
