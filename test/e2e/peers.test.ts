// What the README's container section says angel, tini and dumb-init each do, run side by side: a child that
// ignores SIGTERM, a daemonized descendant at the stop, and kill -9 of the init (on the host, as a subreaper).
// Each is an observation of the three run the same way at the same time, so the table stays true.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AngelRun } from '../helpers/events.js';
import { atTestEnd } from '../helpers/cleanup.js';
import { isAlive } from '../helpers/proc.js';
import { needs } from '../helpers/skip.js';

const PID1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
const has = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = !has('tini') ? 'needs tini (apt-get install tini)' : !has('dumb-init') ? 'needs dumb-init (apt-get install dumb-init)' : false;
let made = 0;
/** A number no other process's command line holds, to find a process by. */
const token = (): string => String(200_000 + process.pid * 10 + made++);

/** A peer init (tini or dumb-init) running `command`, its output kept line by line. */
class PeerRun {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<void>;

  constructor(init: readonly string[], command: readonly string[], prefix: readonly string[] = []) {
    const [program, ...args] = [...prefix, ...init, '--', ...command];
    this.process = spawn(program as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = new Promise((resolve) => this.process.once('exit', () => resolve()));
    atTestEnd(() => void this.process.kill('SIGKILL'));
  }

  async line(text: string): Promise<void> {
    while (!this.lines.includes(text)) await new Promise((resolve) => this.process.stdout?.once('data', resolve));
  }

  /** The init's pid: itself, or under unshare its child. */
  initPid(): number {
    const pid = this.process.pid as number;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    return children === '' ? pid : Number(children.split(' ')[0]);
  }
}

/** The pid of the live process with exactly this command line, or null. */
function pidOf(commandLine: string): number | null {
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ') === commandLine && isAlive(Number(name))) return Number(name);
    } catch {}
  }
  return null;
}

const PEERS = [['tini', ['tini']], ['dumb-init', ['dumb-init']]] as const;

describe('angel beside tini and dumb-init', { skip: needs(missing) }, () => {
  test('a child that ignores SIGTERM: angel SIGKILLs it at --kill-timeout and exits 137; tini and dumb-init are still waiting then', async () => {
    const child = ['sh', '-c', 'trap "" TERM; echo up; while :; do sleep 0.05; done'];
    const angel = new AngelRun(['--kill-timeout', '1s', '--', ...child], { prefix: PID1 });
    const peers = PEERS.map(([, init]) => new PeerRun(init, child, PID1));
    await angel.line(/^up$/);
    await Promise.all(peers.map((peer) => peer.line('up')));
    const angelPid = Number(readFileSync(`/proc/${angel.process.pid}/task/${angel.process.pid}/children`, 'latin1').trim().split(' ')[0]);
    process.kill(angelPid, 'SIGTERM');
    for (const peer of peers) process.kill(peer.initPid(), 'SIGTERM');
    assert.equal(await angel.status(), 137);
    for (const [index, peer] of peers.entries()) assert.equal(peer.process.exitCode, null, `${PEERS[index]?.[0]} still waits on the child`);
  });

  test('a setsid daemon at the stop: angel gives it the stop signal and the grace; tini and dumb-init signal only the child (or its group)', async () => {
    const daemon = 'trap "echo daemon got SIGTERM; exit 0" TERM; echo daemon up; while :; do sleep 0.05; done';
    const child = ['sh', '-c', `(setsid sh -c '${daemon}' &); exec sleep 1000`];
    const angel = new AngelRun(['--', ...child], { prefix: PID1 });
    const peers = PEERS.map(([, init]) => new PeerRun(init, child, PID1));
    await angel.line(/^daemon up$/);
    await Promise.all(peers.map((peer) => peer.line('daemon up')));
    const angelPid = Number(readFileSync(`/proc/${angel.process.pid}/task/${angel.process.pid}/children`, 'latin1').trim().split(' ')[0]);
    process.kill(angelPid, 'SIGTERM');
    for (const peer of peers) process.kill(peer.initPid(), 'SIGTERM');
    assert.equal(await angel.status(), 143);
    await Promise.all(peers.map((peer) => peer.exited));
    assert.ok(angel.stdout.items.includes('daemon got SIGTERM'), 'angel stopped the daemon with its generation, gracefully');
    // the PID namespace ends with its init: the kernel SIGKILLs the daemon, which never hears a SIGTERM
    for (const [index, peer] of peers.entries()) assert.equal(peer.lines.includes('daemon got SIGTERM'), false, `${PEERS[index]?.[0]} never signals it`);
  });

  test('kill -9 of the init on the host: angel\'s child gets the parent-death signal and the next angel sweeps its grandchild; tini\'s and dumb-init\'s go on', async () => {
    const tokens = { angel: token(), tini: token(), 'dumb-init': token() };
    // a wrapper (sh) with a grandchild: only a direct child can get a parent-death signal
    const wrapped = (mark: string): string[] => ['sh', '-c', `sleep ${mark}; true`];
    const angel = new AngelRun(['--', ...wrapped(tokens.angel)]);
    const peers = PEERS.map(([name, init]) => new PeerRun(name === 'tini' ? ['tini', '-s'] : init, wrapped(tokens[name])));
    const sleeps = (): Array<number | null> => [tokens.angel, tokens.tini, tokens['dumb-init']].map((mark) => pidOf(`sleep ${mark}`));
    while (sleeps().includes(null)) await new Promise((resolve) => setTimeout(resolve, 10));
    const [angelSleep, ...peerSleeps] = sleeps() as number[];
    atTestEnd(() => {
      for (const pid of [angelSleep, ...peerSleeps]) {
        try {
          process.kill(pid as number, 'SIGKILL');
        } catch {}
      }
    });
    // what the next angel's sweep acts on: the dead angel's record of its generation
    await angel.recorded(0);
    angel.signal('SIGKILL');
    for (const peer of peers) peer.process.kill('SIGKILL');
    await Promise.all([new Promise((resolve) => (angel.process.exitCode !== null || angel.process.signalCode !== null ? resolve(null) : angel.process.once('exit', resolve))), ...peers.map((peer) => peer.exited)]);
    const next = new AngelRun(['--restart', 'never', '--', 'true']);
    assert.equal(await next.status(), 0);
    assert.equal(isAlive(angelSleep as number), false, 'the dead angel\'s leftover was swept by the next angel');
    for (const [index, pid] of peerSleeps.entries()) assert.equal(isAlive(pid), true, `${PEERS[index]?.[0]}'s grandchild lives on, and the next angel left it alone`);
  });
});
