// The /proc tree reader against the kernel: a real tree (spreader.c) read by TreeReader and checked against a
// scan of every process's parent in /proc, its files counted in this process's /proc/self/fd.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { test } from 'node:test';
import { TreeReader, readStatus } from '../../src/kernel/proctree.js';
import { atTestEnd } from '../helpers/cleanup.js';
import { fixture } from '../helpers/events.js';
import { openFdCount } from '../helpers/spawn-output.js';

/** The fields after the command name of /proc/<pid>/stat, or null when the process is gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The root and every process whose chain of parents leads to it, from each process's ppid. */
function descendantsByScan(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(name)?.[1] ?? 0);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    found.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

const sorted = (pids: number[]): number[] => [...pids].sort((a, b) => a - b);

interface Spreader {
  pid: number;
  threadChild: number;
  sessionGrandchild: number;
  /** Sends a command and waits for the line that answers it. */
  command(line: string): Promise<string>;
  /** The spreader's own children, from its threads' children files. */
  children(): number[];
  end(): Promise<void>;
}

async function startSpreader(children: number): Promise<Spreader> {
  const child: ChildProcessWithoutNullStreams = spawn(fixture('spreader'), [String(children)]);
  const end = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
  };
  atTestEnd(end); // the end of its stdin ends its whole tree, should the test fail before it ends it
  const lines: Interface = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const { value, done } = await iterator.next();
    if (done) throw new Error('spreader ended its output');
    return value as string;
  };
  const field = (line: string, name: string): number => {
    const match = new RegExp(`^${name} (\\d+)$`).exec(line);
    if (!match) throw new Error(`spreader said ${JSON.stringify(line)}, not ${name}`);
    return Number(match[1]);
  };
  const threadChild = field(await next(), 'thread-child');
  const sessionGrandchild = field(await next(), 'session-grandchild');
  assert.equal(await next(), 'ready');
  const pid = child.pid as number;
  return {
    pid,
    threadChild,
    sessionGrandchild,
    command: async (line) => {
      child.stdin.write(`${line}\n`);
      return next();
    },
    children: () =>
      readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
        readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim().split(' ').filter(Boolean).map(Number)),
    end,
  };
}

test('a sample holds the root first and every descendant: a child forked by a second thread, one in its own session and its child', async () => {
  const tree = await startSpreader(5);
  const reader = new TreeReader();
  try {
    const { pids } = reader.sample(tree.pid);
    assert.equal(pids[0], tree.pid);
    assert.equal(pids.length, 1 + 5 + 1 + 1 + 1);
    assert.deepEqual(sorted(pids), sorted(descendantsByScan(tree.pid)));
    assert.ok(pids.includes(tree.threadChild), 'the child of the second thread');
    assert.ok(pids.includes(tree.sessionGrandchild), 'the grandchild in another session');
  } finally {
    reader.close();
    await tree.end();
  }
});

test("a sample's RSS is the sum of its processes' resident memory, as statm counts it", async () => {
  const pageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'latin1' }).trim());
  const tree = await startSpreader(3);
  const reader = new TreeReader();
  try {
    const statmBytes = (pids: number[]): number =>
      pids.reduce((sum, pid) => sum + Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * pageSize, 0);
    // a fresh child may still fault in a page on its way to pause(): compare once a sample on each side agrees
    let agreed = false;
    for (let attempt = 0; attempt < 50 && !agreed; attempt++) {
      const { pids, rssBytes } = reader.sample(tree.pid);
      const statm = statmBytes(pids);
      if (reader.sample(tree.pid).rssBytes !== rssBytes) continue;
      assert.ok(rssBytes > 0);
      assert.equal(rssBytes, statm);
      agreed = true;
    }
    assert.ok(agreed, 'the tree never held still');
  } finally {
    reader.close();
    await tree.end();
  }
});

test('readStatus reads state, threads and RSS of a live process, and null for a gone one', async () => {
  const own = readStatus(process.pid);
  assert.ok(own);
  assert.equal(own.state, 'R');
  assert.equal(own.threads, Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]));
  assert.ok(own.rssBytes > 0);
  const tree = await startSpreader(1);
  const [child] = tree.children().filter((pid) => pid !== tree.threadChild);
  assert.equal(readStatus(tree.pid)?.threads, 2);
  assert.equal(await tree.command(`kill ${child}`), `gone ${child}`);
  assert.equal(readStatus(child as number), null);
  await tree.end();
});

test('a reader keeps two files open per process (statm, the task directory) and one per thread (children), and closes the files of processes that left', async () => {
  const baseline = openFdCount();
  const tree = await startSpreader(4);
  const reader = new TreeReader();
  const before = openFdCount(); // with the spreader's pipes
  try {
    const first = reader.sample(tree.pid);
    // the spreader has two threads, every other process one
    assert.equal(openFdCount() - before, first.pids.length * 3 + 1);
    reader.sample(tree.pid);
    assert.equal(openFdCount() - before, first.pids.length * 3 + 1, 'a second sample reuses the files');

    const [leaving] = tree.children().filter((pid) => pid !== tree.threadChild);
    assert.equal(await tree.command(`kill ${leaving}`), `gone ${leaving}`);
    const second = reader.sample(tree.pid);
    assert.deepEqual(sorted(second.pids), sorted(first.pids.filter((pid) => pid !== leaving)));
    assert.equal(openFdCount() - before, second.pids.length * 3 + 1);

    await tree.end();
    assert.deepEqual(reader.sample(tree.pid).pids, [], 'the whole tree is gone');
    assert.equal(openFdCount(), baseline, 'every file closed');
  } finally {
    reader.close();
    await tree.end();
  }
  assert.equal(openFdCount(), baseline);
});

test('a reused pid is read as the new process: the old file fails with ESRCH and is opened afresh', async () => {
  const tree = await startSpreader(2);
  const reader = new TreeReader();
  try {
    const before = reader.sample(tree.pid).pids;
    const [reused] = tree.children().filter((pid) => pid !== tree.threadChild) as [number];
    const oldStart = statFields(reused)?.[19];
    const oldFile = openSync(`/proc/${reused}/statm`, 'r');
    try {
      assert.equal(await tree.command(`reuse ${reused}`), `reused ${reused}`);
      // the premise: a /proc file stays bound to the process it was opened for
      assert.throws(() => readSync(oldFile, Buffer.alloc(512), 0, 512, 0), { code: 'ESRCH' });
    } finally {
      closeSync(oldFile);
    }
    assert.notEqual(statFields(reused)?.[19], oldStart, 'a new process (another start time) under the old pid');
    const after = reader.sample(tree.pid).pids;
    assert.deepEqual(sorted(after), sorted(before));
    assert.deepEqual(sorted(after), sorted(descendantsByScan(tree.pid)));
  } finally {
    reader.close();
    await tree.end();
  }
});

test('a children list longer than a page (the first read buffer, and what one read of a seq_file returns) is read whole', async () => {
  const count = 1000;
  const tree = await startSpreader(count);
  const reader = new TreeReader();
  try {
    const listBytes = readFileSync(`/proc/${tree.pid}/task/${tree.pid}/children`).length;
    assert.ok(listBytes > 4096, `the list is ${listBytes} bytes`);
    const { pids } = reader.sample(tree.pid);
    assert.equal(pids.length, 1 + count + 3);
    assert.deepEqual(sorted(pids), sorted(descendantsByScan(tree.pid)));
  } finally {
    reader.close();
    await tree.end();
  }
});
