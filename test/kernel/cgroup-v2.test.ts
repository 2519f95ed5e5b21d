// cgroup v2, in a private mount namespace (unshare --mount) with cgroup2 mounted afresh: what can be tried here
// whatever controllers the hierarchy has (clone3 CLONE_INTO_CGROUP, cgroup.kill, --cgroup refusing a hierarchy
// without the memory controller), and, where `memory` is in cgroup.controllers, angel's v2 memory files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { cliArgs, fixture } from '../helpers/events.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'cgroup-v2-probe.js');
const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((line) => line.startsWith('0::'))?.slice(3);
const unshare = spawnSync('unshare', ['--mount', 'true']);
const noV2 = own === undefined ? 'needs a cgroup v2 line (0::) in /proc/self/cgroup'
  : unshare.status !== 0 ? `needs unshare --mount (util-linux) and CAP_SYS_ADMIN: ${unshare.error?.message ?? unshare.stderr}` : false;

/** Runs `script` (sh, $0 = a fresh cgroup2 mount, $1 = this process's v2 cgroup under it) in a private mount
 * namespace. */
function inNamespace(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const mount = mkdtempSync(join(tmpdir(), 'angel-cgroup2-'));
  try {
    const run = spawnSync('unshare', ['--mount', 'sh', '-c', `mount -t cgroup2 none "$0" || exit 99\n${script}`, mount, join(mount, own ?? ''), ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(run.status, 99, `mount -t cgroup2: ${run.stderr}`);
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(mount, { recursive: true, force: true });
  }
}

const controllers = noV2 ? '' : inNamespace('cat "$1/cgroup.controllers"').stdout;

describe('cgroup v2', { skip: noV2 }, () => {
  test('a child starts in its cgroup (clone3 CLONE_INTO_CGROUP), and cgroup.kill ends it with the daemon it started there', () => {
    const run = inNamespace('exec "$2" "$3" "$0"', process.execPath, PROBE);
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(seen.childSaw, `0::${seen.cgroup}`, 'the child was in its cgroup when it read /proc/self/cgroup');
    assert.equal(seen.daemonCgroup, `0::${seen.cgroup}`, 'and so was the daemon it started');
    assert.equal(seen.removed, true);
    assert.equal(seen.testGone, true);
    assert.equal(seen.exitSignal, 'SIGKILL');
    assert.equal(seen.daemonAlive, false);
  });

  // The v1 memory hierarchy is unmounted in the namespace, so angel takes v2, as it would where only v2 is mounted.
  const inTestCgroup = `umount /sys/fs/cgroup/memory 2>/dev/null
T="$1/angel-test.$$"; shift; mkdir "$T" || exit 98
sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$T" "$@" 2>&1
echo "status $?"; find "$T" -mindepth 1 -type d; rmdir "$T"`;

  test('--cgroup on a hierarchy without the memory controller is a usage error naming the path and ENOENT, and leaves nothing', {
    skip: controllers.split(/\s+/).includes('memory') ? 'memory is in cgroup.controllers here: angel can run, the next test does' : false,
  }, () => {
    const run = inNamespace(inTestCgroup, process.execPath, ...cliArgs('--cgroup', '--', 'true'));
    assert.match(run.stdout, /^angel: --cgroup: cannot find the memory controller in \(ENOENT\), got ".*\/angel-test\.\d+\/cgroup\.controllers"\nstatus 2\n$/);
  });

  test('the no-internal-process rule: angel moves into a leaf of its own before it enables +memory for its generations', {
    skip: controllers.split(/\s+/).includes('memory') ? false
      : 'the rule binds only a cgroup that hands controllers down, and the v2 root here hands none to the test\'s cgroup '
        + '(its cgroup.subtree_control is empty, and a test may configure only cgroups of its own); with memory in cgroup.controllers the next test runs it',
  }, () => {
    // angel in the test cgroup, with --cgroup: the generation runs under it, so the rule was kept (else EBUSY)
    const run = inNamespace(`${inTestCgroup}`, process.execPath, ...cliArgs('--log-format', 'json', '--cgroup', '--', 'sh', '-c', 'cat /proc/self/cgroup'));
    assert.match(run.stdout, /^0::.*\/angel-test\.\d+\/angel\.[0-9a-f]{16}\/gen\.0$/m);
    assert.match(run.stdout, /status 0\n$/);
  });

  test('v2 memory files: memory.high at the cap makes the overrun an event, the leaker is stopped, nothing is left', {
    skip: controllers.split(/\s+/).includes('memory') ? false
      : `memory is not in the v2 root's cgroup.controllers here (${controllers.trim() || 'none'}): the memory controller is bound to the v1 hierarchy`,
  }, () => {
    const run = inNamespace(inTestCgroup, process.execPath, ...cliArgs('--log-format', 'json', '--cgroup', '--max-mem', '32M', '--restart', 'never', '--', fixture('leaker'), '4', '20'));
    assert.match(run.stdout, /"event":"overrun"/);
    assert.match(run.stdout, /"reason":"overrun"/);
    assert.match(run.stdout, /status 143\n$/, 'angel ended with the child, and the test cgroup had nothing left in it');
  });
});
