// Root for another user, through real sudo: a user allowed `sudo angel` (and granted programs of root's in
// their group) tries what gave root before, and each attack's effect is asserted absent: no inspector opened
// by uid 0, no root file changed or created where the user pointed, no root-only content shown, no
// environment variable off the allowlist, no interpreter of the user's run as root. The setup (user, group,
// granted programs, sudoers line) is made before and removed after (test/helpers/sudo.ts). Without sudo the
// suite is skipped, saying why; under CI=true (.ci/run installs sudo) it fails instead.
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reachable } from '../helpers/reachable.js';
import { needs } from '../helpers/skip.js';
import { makeSudoSetup, sudoMissing, type SudoSetup } from '../helpers/sudo.js';

const missing = sudoMissing();
const SIGUSR1 = 10;

/** Whether any process of uid 0 listens on `port` (/proc/net/tcp and tcp6: local port, state 0A, uid). */
function rootListens(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A' && fields[7] === '0') return true;
    }
  }
  return false;
}

interface Finished {
  stdout: string;
  stderr: string;
}

/** Collects a process's output until it exits. */
function finished(child: ChildProcessWithoutNullStreams): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', () => resolve({ stdout, stderr })));
}

/** Resolves once `text` has appeared on the stream. */
function seen(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<void> {
  let text = '';
  return new Promise((resolve) => {
    const listen = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        stream.off('data', listen);
        resolve();
      }
    };
    stream.on('data', listen);
  });
}

describe('root for another user, through real sudo', { skip: needs(missing ?? false) }, () => {
  let sudo: SudoSetup;
  let sleep: string;
  let sh: string;
  let printenv: string;
  let nodeChild: string;
  /** A directory only root can enter, holding a file of root's: what the attacks aim at. */
  const vault = `/var/lib/angel-test-vault-${process.pid}`;
  const secret = join(vault, 'secret');
  const secretText = 'root-only s3cr3t\n';

  before(() => {
    assert.equal(missing, null, `${missing}: CI installs sudo (.ci/run), and must run these tests`);
    sudo = makeSudoSetup();
    sleep = sudo.grant('sleep', { copy: '/bin/sleep' });
    sh = sudo.grant('sh', { copy: '/bin/sh' });
    printenv = sudo.grant('printenv', { copy: '/usr/bin/env' });
    // a Node program the user may run as root: SIGUSR1 would open its inspector on 127.0.0.1:9229
    nodeChild = sudo.grant('node-child', { text: '#!/usr/bin/node\nconsole.log("ready");\nsetInterval(() => {}, 1000);\n' });
    mkdirSync(vault, { mode: 0o700 });
    writeFileSync(secret, secretText, { mode: 0o600 });
  });

  after(() => {
    sudo?.remove();
    rmSync(vault, { recursive: true, force: true });
  });

  const secretIntact = (): void => {
    assert.equal(readFileSync(secret, 'utf8'), secretText, 'the root file is unchanged');
    assert.equal(statSync(secret).mode & 0o7777, 0o600, 'its mode is unchanged');
  };

  describe('no inspector, ever', { concurrency: true }, () => {
    // SIGUSR1 in bursts from the user, at offsets into angel's start-up and life: before Node's own handler,
    // while only Node's handler is there (its inspector is what would open), and once angel's listener is
    // the last ones land in angel's life however slow its start on a loaded machine
    const OFFSETS_MS = [0, 10, 25, 50, 80, 120, 200, 350, 1500, 3000];

    async function storm(args: readonly string[]): Promise<Finished[]> {
      const runs = OFFSETS_MS.map((offset) =>
        finished(sudo.spawn([reachable('test/fixtures/bin/signal-at'), String(SIGUSR1), String(offset), '40', '2000', '--', 'sudo', '-n', sudo.angel, ...args], { sudo: false })));
      let listened = false;
      const watch = setInterval(() => (listened ||= rootListens(9229)), 10);
      try {
        const results = await Promise.all(runs);
        assert.equal(listened, false, 'no process of root\'s listened on 9229');
        for (const result of results) {
          assert.doesNotMatch(result.stderr, /Debugger listening/, 'no inspector opened');
          assert.match(result.stdout, /^(status \d+|signal \d+)$/m);
        }
        return results;
      } finally {
        clearInterval(watch);
      }
    }

    test('angel run, from exec to exit', async () => {
      const results = await storm(['--log-format', 'json', '--restart', 'never', '--', sleep, '4']);
      // those hit before Node's handler die of the signal (no harm: it is the user's own command); the others run
      assert.ok(results.some((result) => /^status 0$/m.test(result.stdout)), 'some ran to their end through the storm');
    });

    test('angel status, waiting on a server that never answers', async () => {
      const server = await silentServer();
      try {
        const port = (server.address() as { port: number }).port;
        const results = await storm(['status', '--metrics', `127.0.0.1:${port}`]);
        assert.ok(results.some((result) => /^status 1$/m.test(result.stdout) && /: ETIMEDOUT$/m.test(result.stderr)));
      } finally {
        server.close();
      }
    });

    test('angel bench', async () => {
      const results = await storm(['bench', '--runs', '1', '--', sleep, '4']);
      assert.ok(results.some((result) => /^status 0$/m.test(result.stdout)), 'some benches ran to their end');
    });

    test('a Node child running as root never gets SIGUSR1: not forwarded, and no way to configure it', async () => {
      const angel = sudo.spawn(['--log-format', 'json', '--', nodeChild]);
      const done = finished(angel);
      await seen(angel.stdout, /^ready$/m);
      const refused = seen(angel.stderr, /SIGUSR1 not forwarded/);
      assert.equal(sudo.run(['kill', '-USR1', String(angel.pid)], { sudo: false }).status, 0, 'the user signals their sudo, which relays it');
      await refused;
      assert.equal(rootListens(9229), false);
      sudo.run(['kill', '-TERM', String(angel.pid)], { sudo: false });
      const { stderr } = await done;
      assert.doesNotMatch(stderr, /Debugger listening/);
      for (const [flag, value] of [['--rewrite', 'SIGUSR2:SIGUSR1'], ['--stop-signal', 'SIGUSR1'], ['--parent-death-signal', 'SIGUSR1']] as const) {
        const run = sudo.run([flag, value, '--', nodeChild]);
        assert.equal(run.status, 2, `${flag} ${value}`);
        assert.match(run.stderr, new RegExp(`^angel: ${flag}: expected a signal other than SIGUSR1, which opens a Node child's inspector \\(the child runs as root for ${sudo.user}\\)`));
      }
      // a child that is not root may get it
      assert.equal(sudo.run(['check', '--user', 'nobody', '--rewrite', 'SIGUSR2:SIGUSR1', '--', sleep, '1']).status, 0);
    });
  });

  describe('every path the user names is used with the user\'s rights', () => {
    test('a unix socket in a directory swapped for a link to root\'s: refused at bind, and not removed at the end', async () => {
      const dir = join(sudo.home, 'sockets');
      symlinkSync(vault, dir);
      const atBind = sudo.run(['--listen', `unix:${join(dir, 's')}`, '--socket-mode', '0777', '--', sleep, '0']);
      assert.equal(atBind.status, 2);
      assert.match(atBind.stderr, /^angel: --listen: .*EACCES/);
      assert.equal(existsSync(join(vault, 's')), false, 'no socket of angel\'s in root\'s directory');
      rmSync(dir);

      // bound in the user's own directory; while it runs, the directory becomes a link to root's, where a
      // file of root's has the socket's name: the end removes only the socket angel bound, as the user
      mkdirSync(dir);
      chownSync(dir, sudo.uid, sudo.gid);
      const angel = sudo.spawn(['--log-format', 'json', '--listen', `unix:${join(dir, 'secret')}`, '--', sleep, '30']);
      const done = finished(angel);
      await seen(angel.stderr, /"event":"start"/);
      assert.equal(lstatSync(join(dir, 'secret')).isSocket(), true);
      assert.equal(lstatSync(join(dir, 'secret')).uid, sudo.uid, 'the socket is the user\'s: bound with their rights');
      renameSync(dir, `${dir}.moved`);
      symlinkSync(vault, dir);
      sudo.run(['kill', '-TERM', String(angel.pid)], { sudo: false });
      await done;
      secretIntact();
      rmSync(dir);
      rmSync(`${dir}.moved`, { recursive: true, force: true });
    });

    test('--socket-mode takes no setuid, setgid or sticky bit', () => {
      const run = sudo.run(['--listen', `unix:${join(sudo.home, 'm.sock')}`, '--socket-mode', '04777', '--', sleep, '0']);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^angel: --socket-mode: expected an octal mode from 0000 to 0777/);
    });

    test('a root service\'s socket is not taken over: unlinking it needs the user\'s right to, which they lack', async () => {
      const dir = `/run/angel-test-service-${process.pid}`;
      mkdirSync(dir, { mode: 0o755 });
      const service = createNetServer();
      const path = join(dir, 'service.sock');
      await new Promise<void>((resolve) => service.listen(path, resolve));
      try {
        const run = sudo.run(['--listen', `unix:${path}`, '--', sleep, '0']);
        assert.equal(run.status, 2);
        assert.match(run.stderr, /^angel: --listen: unlink: EACCES/);
        assert.equal(lstatSync(path).isSocket(), true, 'root\'s socket is still there');
      } finally {
        service.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('--log-file: a root-only file, and the kernel\'s own files, are refused; the user\'s own is created as theirs', () => {
      const bashrc = sudo.run(['--log-file', secret, '--', sleep, '0']);
      assert.equal(bashrc.status, 2);
      assert.match(bashrc.stderr, /^angel: --log-file: expected a regular file uid \d+ can write \(open .*: EACCES\)/);
      secretIntact();
      const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
      const kernel = sudo.run(['--log-file', '/proc/sys/kernel/core_pattern', '--', sleep, '0']);
      assert.equal(kernel.status, 2);
      assert.match(kernel.stderr, /^angel: --log-file: .*(on proc, the kernel's own filesystem|EACCES)/);
      assert.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), pattern);
      const own = join(sudo.home, 'out.log');
      assert.equal(sudo.run(['--restart', 'never', '--log-file', own, '--', printenv]).status, 0);
      assert.equal(statSync(own).uid, sudo.uid, 'created with the user\'s rights: theirs');
      assert.match(readFileSync(own, 'utf8'), /^PATH=/m);
    });

    test('--log-max-size: rotated files are the user\'s, and a log directory swapped for a link to root\'s has nothing renamed in it', async () => {
      const logs = join(sudo.home, 'logs');
      const before = join(sudo.home, 'logs-before');
      mkdirSync(logs);
      chownSync(logs, sudo.uid, sudo.gid);
      // named as root's file is, so a rotation that reached root's directory would rename it
      const log = join(logs, 'secret');
      const angel = sudo.spawn(['--log-format', 'json', '--log-file', log, '--log-max-size', '4K', '--log-keep', '2', '--', sh, '-c', 'while :; do echo line; done']);
      const done = finished(angel);
      try {
        const failed = seen(angel.stderr, /"message":"log file [^"]*: rotation failed \(open [^"]*: EACCES\)/);
        for (const started = Date.now(); !existsSync(`${log}.2`);) {
          assert.ok(Date.now() - started < 10_000, 'rotated twice within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        renameSync(logs, before);
        symlinkSync(vault, logs);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([failed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no failed rotation within 10 s')), 10_000)))]);
        clearTimeout(timer);
      } finally {
        sudo.run(['kill', '-TERM', String(angel.pid)], { sudo: false });
        await done;
      }
      secretIntact();
      assert.deepEqual(readdirSync(vault), ['secret'], 'nothing renamed or created in root\'s directory');
      assert.deepEqual(readdirSync(before).sort(), ['secret', 'secret.1', 'secret.2']);
      for (const file of readdirSync(before)) assert.equal(statSync(join(before, file)).uid, sudo.uid, `${file} is the user's`);
    });

    test('bench exports never follow a link, and are written as the user', () => {
      const link = join(sudo.home, 'table.md');
      symlinkSync(secret, link);
      const run = sudo.run(['bench', '--runs', '1', '--export-markdown', link, '--', sleep, '5']);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^angel: --export-markdown: expected a file angel can write/);
      secretIntact();
      rmSync(link);
    });
  });

  describe('the environment is an allowlist', () => {
    test('off the list is refused, on it with a checked value passes', () => {
      for (const assignment of ['LANGUAGE=../../tmp/x', 'PYTHONWARNINGS=ignore::x.y', 'BROWSER=/tmp/x', 'NODE_V8_COVERAGE=/root/x', 'TZ=/tmp/zone']) {
        const run = sudo.run(['--env', assignment, '--', printenv]);
        assert.equal(run.status, 2, assignment);
        assert.match(run.stderr, /^angel: --env: expected only TERM, COLORTERM, NO_COLOR, LANG, LANGUAGE, LC_\*, TZ, COLUMNS, LINES/);
        assert.equal(run.stdout, '', `${assignment}: nothing ran`);
      }
      const run = sudo.run(['--restart', 'never', '--env', 'TZ=Europe/Berlin', '--env', 'LANG=C.UTF-8', '--', printenv]);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^TZ=Europe\/Berlin$/m);
      assert.match(run.stdout, /^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin$/m);
    });
  });

  describe('--env-file, as --env', () => {
    test('the user\'s file is opened with their rights and each variable held to the allowlist; a -FILE that is missing is skipped', () => {
      const shadow = sudo.run(['--env-file', '/etc/shadow', '--', printenv]);
      assert.equal(shadow.status, 2);
      assert.match(shadow.stderr, /^angel: --env-file: expected a regular file uid \d+ can read \(open \/etc\/shadow: EACCES\)/);
      assert.doesNotMatch(`${shadow.stdout}${shadow.stderr}`, /root:/);
      const file = join(sudo.home, 'app.env');
      writeFileSync(file, 'TZ=Europe/Berlin\nNODE_OPTIONS=--require /tmp/x.js\n');
      chownSync(file, sudo.uid, sudo.gid);
      const refused = sudo.run(['--env-file', file, '--', printenv]);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /^angel: --env-file: expected only TERM, COLORTERM, NO_COLOR, LANG, LANGUAGE, LC_\*, TZ, COLUMNS, LINES.*got "NODE_OPTIONS=--require \/tmp\/x\.js"/);
      assert.equal(refused.stdout, '', 'nothing ran');
      writeFileSync(file, 'TZ=Europe/Berlin\n');
      const allowed = sudo.run(['--restart', 'never', '--env-file', file, '--env-file', `-${join(sudo.home, 'none.env')}`, '--', printenv]);
      assert.equal(allowed.status, 0, allowed.stderr);
      assert.match(allowed.stdout, /^TZ=Europe\/Berlin$/m);
    });

    test('a file a root-owned config names is the admin\'s word when it is root\'s alone, and refused when the user could write it', () => {
      const adminFile = join(sudo.granted, 'app.env');
      writeFileSync(adminFile, 'APP_MODE=prod\n', { mode: 0o644 });
      const config = join(sudo.granted, 'env-file.json');
      writeFileSync(config, JSON.stringify({ program: printenv, restart: 'never', envFile: [adminFile] }), { mode: 0o644 });
      const run = sudo.run(['--config', config]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^APP_MODE=prod$/m);
      const userFile = join(sudo.home, 'admin-named.env');
      writeFileSync(userFile, 'APP_MODE=mine\n');
      chownSync(userFile, sudo.uid, sudo.gid);
      writeFileSync(config, JSON.stringify({ program: printenv, restart: 'never', envFile: [userFile] }), { mode: 0o644 });
      const theirs = sudo.run(['--config', config]);
      assert.equal(theirs.status, 2);
      assert.match(theirs.stderr, new RegExp(`^angel: ${config.replace(/[.]/g, '\\.')}: envFile: expected a file only root can write to and ${sudo.user} can read`));
      assert.equal(theirs.stdout, '', 'nothing ran');
    });
  });

  describe('Node reads nothing the user names', () => {
    test('an --env-file among angel\'s arguments: the NODE_OPTIONS in it would --require the user\'s code into root\'s angel', () => {
      const marker = join(sudo.home, 'hook-ran');
      const hook = join(sudo.home, 'hook.cjs');
      writeFileSync(hook, `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\n`);
      const file = join(sudo.home, 'evil.env');
      writeFileSync(file, `NODE_OPTIONS=--require ${hook}\n`);
      for (const path of [hook, file]) chownSync(path, sudo.uid, sudo.gid);
      const run = sudo.run(['--env', `--env-file=${file}`, '--', sleep, '0']);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /^angel: --env: expected only TERM/);
      assert.equal(existsSync(marker), false, 'no code of the user\'s ran in angel');
    });
  });

  describe('the addon is the one installed beside angel', () => {
    test('node-gyp-build\'s variables, kept by sudo, choose no file: a .node of the user\'s is never loaded as root', () => {
      // what node-gyp-build would pick with them: the user's directory's build, or only prebuilds (none of
      // which is this checkout's compiled addon), for musl: none is a loadable addon, so a load fails angel
      const theirs = join(sudo.home, 'addon');
      for (const dir of ['build/Release', 'prebuilds/linux-x64']) mkdirSync(join(theirs, dir), { recursive: true });
      writeFileSync(join(theirs, 'build', 'Release', 'angel.node'), 'not an addon');
      writeFileSync(join(theirs, 'prebuilds', 'linux-x64', 'angel-supervisor.musl.node'), 'not an addon');
      for (const env of [{ ANGEL_SUPERVISOR_PREBUILD: theirs }, { PREBUILDS_ONLY: '1', LIBC: 'musl' }] as Array<Record<string, string>>) {
        const run = sudo.run(['--restart', 'never', '--', printenv], { env });
        assert.equal(run.status, 0, `${JSON.stringify(env)}: ${run.stderr}`);
        assert.doesNotMatch(run.stderr, /addon/);
        // and, off the allowlist, they reach no child either
        for (const [name, value] of Object.entries(env)) assert.doesNotMatch(run.stdout, new RegExp(`^${name}=${value}$`, 'm'), 'off the child\'s allowlist');
      }
    });
  });

  describe('a script\'s interpreter passes the root rule', () => {
    test('#! naming the user\'s own interpreter is refused, and it never runs', () => {
      const interpreter = join(sudo.home, 'interp');
      const marker = join(sudo.home, 'interpreter-ran');
      writeFileSync(interpreter, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
      chownSync(interpreter, sudo.uid, sudo.gid);
      const script = sudo.grant('uses-user-interp', { text: `#!${interpreter}\n` });
      const run = sudo.run(['--', script]);
      assert.equal(run.status, 126);
      assert.match(run.stderr, new RegExp(`^angel: user ${sudo.user} .* may not run ${script} through angel as root: .*interp`));
      assert.equal(existsSync(marker), false, 'the user\'s interpreter did not run');
      const fine = sudo.grant('uses-sh', { text: '#!/bin/sh\necho "ran as $(id -u)"\n' });
      const ran = sudo.run(['--restart', 'never', '--', fine]);
      assert.equal(ran.status, 0);
      assert.match(ran.stdout, /^ran as 0$/m);
    });
  });

  describe('nothing of a root-only file is shown', () => {
    test('a config the user cannot read is refused before it is parsed; a root-owned one the user can read is the admin\'s word', () => {
      for (const file of ['/etc/shadow', secret]) {
        const run = sudo.run(['check', '--config', file]);
        assert.equal(run.status, 2, file);
        assert.match(run.stderr, /^angel: --config: expected a file only root can write to and .* can read, .*EACCES/);
        assert.doesNotMatch(`${run.stdout}${run.stderr}`, /root:|s3cr3t/);
      }
      const config = join(sudo.granted, 'angel.json');
      writeFileSync(config, JSON.stringify({ program: sleep, args: ['0'], env: { APP_MODE: 'prod' } }), { mode: 0o644 });
      const run = sudo.run(['check', '--config', config]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /"APP_MODE": "prod"/);
    });
  });

  describe('inputs from below are bounded', () => {
    test('a child writing to its ready fd without end grows nothing in root\'s angel', async () => {
      const angel = sudo.spawn(['--log-format', 'json', '--user', 'nobody', '--ready', 'fd', '--', sh, '-c', 'yes x | tr -d "\\n" >&"$ANGEL_READY_FD"']);
      const done = finished(angel);
      await seen(angel.stderr, /"event":"start"/);
      const started = Date.now();
      let peak = 0;
      while (Date.now() - started < 2000) {
        peak = Math.max(peak, angelRss(angel.pid as number));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(peak > 0, 'angel was found under sudo');
      assert.ok(peak < 150 * 2 ** 20, `angel's RSS stayed bounded (peak ${(peak / 2 ** 20).toFixed(0)} MiB)`);
      sudo.run(['kill', '-TERM', String(angel.pid)], { sudo: false });
      await done;
    });

    test('a config that cannot be read is one line: /proc/self/mem (EIO), /proc/kmsg', () => {
      for (const file of ['/proc/self/mem', '/proc/kmsg']) {
        const run = sudo.run(['check', '--config', file]);
        assert.equal(run.status, 2, file);
        assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr}`);
        assert.match(run.stderr, /^angel: --config: /);
      }
    });
  });
});

/** A TCP server that accepts and never says a word. */
async function silentServer(): Promise<Server> {
  const server = createNetServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The resident memory of the node process sudo started (angel), by /proc. */
function angelRss(setprivPid: number): number {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const queue = [setprivPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'node') {
        const rss = /\nVmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
        return Number(rss ?? 0) * 1024;
      }
    } catch {}
    queue.push(...children(pid));
  }
  return 0;
}
