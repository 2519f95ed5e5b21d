// The floor of a Node watcher: a Node process (with bin/angel's flags) whose 1 s timer does nothing (`idle`), or
// reads what angel's check reads where the kernel tells it of the cap (`cgroup DIR`: the cgroup's usage and
// memory.stat, kept open and read again from their start, and its cgroup.procs, opened afresh), or whose timer
// every INTERVAL ms does nothing (`wake INTERVAL`), reads the tree's /proc files and nothing else (`reads
// INTERVAL`: each process's statm and children, kept open and read again from their start with the addon's
// pread, and its task directory's link count (its threads), as angel's reader reads them, nothing parsed), or
// samples the tree with angel's own reader (`tree INTERVAL`: kernel/proctree.ts's TreeReader), with nothing
// around it. It starts the tree it is given as its child, as the other watchers do.
//
//   node-floor idle|cgroup DIR|wake INTERVAL|reads INTERVAL|tree INTERVAL -- TREE [ARGS...]
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { TreeReader, treePids } from '../src/kernel/proctree.js';
import { linkCount, readAt } from '../src/kernel/syscalls.js';

const [mode, ...rest] = process.argv.slice(2);
const separator = rest.indexOf('--');
const operand = separator > 0 ? rest[0] : undefined;
const [tree, ...args] = rest.slice(separator + 1);
if (!['idle', 'cgroup', 'wake', 'reads', 'tree'].includes(mode ?? '') || tree === undefined || (mode === 'idle') !== (operand === undefined)) {
  process.stderr.write('usage: node-floor idle|cgroup DIR|wake INTERVAL|reads INTERVAL|tree INTERVAL -- TREE [ARGS...]\n');
  process.exit(2);
}
const dir = mode === 'cgroup' ? operand : undefined;
// its own group, so that the whole tree goes with it
const child = spawn(tree, args, { stdio: 'ignore', detached: true });
process.on('SIGTERM', () => {
  process.kill(-(child.pid as number), 'SIGKILL');
  process.exit(0);
});

const buffer = Buffer.alloc(8192);
const version = dir === undefined ? 1 : dir.includes('/memory/') ? 1 : 2;
const usage = dir === undefined ? -1 : openSync(join(dir, version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), 'r');
const stat = dir === undefined ? -1 : openSync(join(dir, 'memory.stat'), 'r');
const procs = dir === undefined ? '' : join(dir, 'cgroup.procs');
let figure = 0;
if (mode === 'tree') {
  const reader = new TreeReader();
  setInterval(() => {
    figure = reader.sample(child.pid as number).rssBytes;
  }, Number(operand));
} else if (mode === 'wake') {
  setInterval(() => {}, Number(operand));
} else if (mode === 'reads') {
  // the files of the tree as it is once complete (the tree's first argument: its processes); the watch is
  // measured from then on
  let files: number[] = [];
  let tasks: number[] = [];
  setInterval(() => {
    if (files.length === 0) {
      const pids = treePids(child.pid as number);
      if (pids.length < Number(args[0] ?? 1)) return;
      files = pids.flatMap((pid) => [openSync(`/proc/${pid}/statm`, 'r'), openSync(`/proc/${pid}/task/${pid}/children`, 'r')]);
      tasks = pids.map((pid) => openSync(`/proc/${pid}/task`, 'r'));
    }
    for (const fd of files) figure += readAt(fd, buffer, 0, buffer.length, 0);
    for (const fd of tasks) figure += linkCount(fd);
  }, Number(operand));
} else setInterval(() => {
  if (dir === undefined) return;
  figure = Number(buffer.toString('latin1', 0, readSync(usage, buffer, 0, buffer.length, 0)));
  figure += readSync(stat, buffer, 0, buffer.length, 0);
  const fd = openSync(procs, 'r');
  figure += readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
}, 1000);
