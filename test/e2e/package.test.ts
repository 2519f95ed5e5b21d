// The package as a user gets it. A copy of this checkout is packed (npm pack runs prepack, which prebuilds the
// addon for glibc and, with musl-gcc, for musl) and the tarball is installed into empty projects: without a
// compiler (CC=/bin/false) it keeps its prebuild, runs a capped child and serves --metrics; locked, or where no
// prebuild loads, it compiles from source with npm's own node-gyp; the musl prebuild loads in a musl process.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { AngelRun, ROOT } from '../helpers/events.js';
import { needs } from '../helpers/skip.js';
import { block } from '../helpers/readme.js';

const NAME = 'angel-supervisor';
const { version: VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'angel-package-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const has = (command: string, args = ['--version']): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const hasNpm = has('npm');
const hasCompiler = has('cc');
const hasMusl = has('musl-gcc');

/** The environment of a user's shell: none of the npm_* variables `npm test` set for this run. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

function npm(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], {
    cwd, env: userEnv(extra), encoding: 'utf8', timeout: 240_000,
  });
  assert.equal(result.status, 0, `npm ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

let tarball = '';

/** A fresh project with the tarball installed; returns its directory and what npm printed. */
function install(extra: NodeJS.ProcessEnv = {}): { app: string; output: string; packageDir: string } {
  const app = mkdtempSync(join(work, 'app-'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const result = npm(['install', tarball], app, extra);
  return { app, output: result.stdout + result.stderr, packageDir: join(app, 'node_modules', NAME) };
}

const angelBin = (app: string): string => join(app, 'node_modules', '.bin', 'angel');
const version = (app: string, extra: NodeJS.ProcessEnv = {}): string =>
  execFileSync(angelBin(app), ['--version'], { encoding: 'utf8', env: userEnv(extra) }).trim();

describe('the package', { skip: needs(hasNpm ? false : 'needs npm on PATH') }, () => {
  before(() => {
    // what git would give a clone: the sources, the lock file, no build/, dist/ or prebuilds/
    const copy = join(work, 'checkout');
    mkdirSync(copy);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'binding.gyp', 'README.md', 'bin', 'src', 'scripts']) {
      cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    mkdirSync(join(copy, 'native'));
    for (const file of readdirSync(join(ROOT, 'native')).filter((name) => /\.[ch]$/.test(name))) cpSync(join(ROOT, 'native', file), join(copy, 'native', file));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const packed = npm(['pack', '--pack-destination', work], copy);
    tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '');
    assert.ok(existsSync(tarball), packed.stdout);
  }, { timeout: 240_000 });

  test('installed without a compiler (CC=/bin/false): its prebuild, angel --version, a capped child and --metrics', { timeout: 240_000 }, async () => {
    const { app, output, packageDir } = install({ CC: '/bin/false', CXX: '/bin/false' });
    assert.match(output, /angel: using the prebuilt addon prebuilds\/linux-x64\/angel-supervisor\.glibc\.node/);
    assert.equal(existsSync(join(packageDir, 'build')), false, 'nothing was compiled');
    assert.equal(version(app), `angel ${VERSION} (not locked)`);
    const leak = 'const kept = []; setInterval(() => kept.push(Buffer.alloc(4 << 20, 1)), 10)';
    const run = new AngelRun(['--max-mem', '40M', '--max-restarts', '0', '--', process.execPath, '-e', leak], { cli: realpathSync(angelBin(app)) });
    const overrun = await run.event('overrun');
    assert.equal(overrun.capBytes, 40 * 2 ** 20);
    assert.equal(await run.status(), 143);
    // --metrics requires prom-client's collector modules by their paths in its package: as installed, they load
    const served = new AngelRun(['--metrics', '0', '--', 'sleep', '60'], { cli: realpathSync(angelBin(app)) });
    try {
      const { address } = await served.event('listening');
      const text = await (await fetch(`http://${String(address)}/metrics`)).text();
      assert.match(text, /^process_resident_memory_bytes \d+$/m);
      assert.match(text, /^nodejs_eventloop_lag_max_seconds /m);
    } finally {
      served.kill();
    }
  });

  test('the README\'s Install lines, as written: npm pack names the tarball npm install -g installs, angel runs', { timeout: 240_000 }, () => {
    const lines = block('Install', 'sh').split('\n').map((line) => line.replace(/\s{2,}#.*$/, '').trim()).filter((line) => line !== '');
    assert.deepEqual(lines.slice(0, 2), ['npm ci', 'npm pack'], 'the tarball above is what npm pack made in a checkout after npm ci');
    const install = lines[2] ?? '';
    assert.equal(install, `npm install -g ./${basename(tarball)}`, 'the line names the tarball npm pack made');
    // -g as written, into a prefix of this test's rather than the machine's
    const prefix = mkdtempSync(join(work, 'global-'));
    const result = spawnSync('sh', ['-c', install], { cwd: dirname(tarball), env: userEnv({ npm_config_prefix: prefix }), encoding: 'utf8', timeout: 240_000 });
    assert.equal(result.status, 0, `${install}:\n${result.stdout}\n${result.stderr}`);
    assert.equal(execFileSync(join(prefix, 'bin', 'angel'), ['--version'], { encoding: 'utf8', env: userEnv() }).trim(), `angel ${VERSION} (not locked)`);
  });

  test('the tarball ships no source maps: they would point to TypeScript sources it does not ship', () => {
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter((entry) => entry !== '');
    assert.ok(entries.includes('package/dist/src/index.js'), entries.slice(0, 20).join('\n'));
    assert.deepEqual(entries.filter((entry) => entry.endsWith('.map')), []);
    assert.deepEqual(entries.filter((entry) => entry.endsWith('.ts') && !entry.endsWith('.d.ts')), []);
  });

  test('the musl prebuild is in the tarball and loads in a process linked with musl', { skip: needs(hasMusl ? false : 'needs musl-gcc (apt-get install musl-tools)'), timeout: 120_000 }, () => {
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const prebuilds = join(unpacked, 'package', 'prebuilds', 'linux-x64');
    assert.deepEqual(readdirSync(prebuilds).sort(), [`${NAME}.glibc.node`, `${NAME}.musl.node`]);
    const musl = join(prebuilds, `${NAME}.musl.node`);
    // the functions node itself provides, as stubs, so the addon's init can run outside node
    const undefinedSymbols = execFileSync('nm', ['-D', '--undefined-only', musl], { encoding: 'utf8' }).split('\n')
      .map((line) => line.trim().split(/\s+/).pop() ?? '').filter((name) => /^(napi_|uv_|node_api_)/.test(name));
    const stubs = join(unpacked, 'stubs.c');
    writeFileSync(stubs, undefinedSymbols.map((name) => `int ${name}(void) { return 0; }\n`).join(''));
    const host = join(unpacked, 'host');
    execFileSync('musl-gcc', ['-rdynamic', '-o', host, join(ROOT, 'test', 'fixtures', 'musl', 'host.c'), stubs]);
    assert.equal(execFileSync(host, [musl], { encoding: 'utf8' }).trim(), 'loaded napi 8');
    const glibc = spawnSync(host, [join(prebuilds, `${NAME}.glibc.node`)], { encoding: 'utf8' });
    assert.equal(glibc.status, 1, 'the glibc build does not load there: the host tells them apart');
    assert.match(glibc.stdout, /^dlopen failed: .*symbol not found/);
  });

  test('a locked install compiles from source with npm\'s node-gyp, and no prebuild shadows it', { skip: needs(hasCompiler ? false : 'needs a C compiler (cc)'), timeout: 240_000 }, () => {
    const { app, packageDir } = install({ ANGEL_LOCK_PROGRAM: '/bin/sleep' });
    assert.ok(existsSync(join(packageDir, 'build', 'Release', 'angel.node')), 'compiled');
    assert.ok(existsSync(join(packageDir, 'prebuilds')), 'the prebuilds are there too');
    assert.equal(version(app), `angel ${VERSION} (locked to /bin/sleep)`);
    const refused = spawnSync(angelBin(app), ['--', '/bin/echo', 'x'], { encoding: 'utf8', env: userEnv() });
    assert.equal(refused.status, 126);
  });

  test('where no prebuild loads (a musl prebuild picked on glibc), the install compiles one', { skip: needs(hasCompiler ? false : 'needs a C compiler (cc)'), timeout: 240_000 }, () => {
    const { app, output, packageDir } = install({ LIBC: 'musl' });
    assert.match(output, /angel: no prebuilt addon loads here \(.*\); compiling it from source/);
    assert.ok(existsSync(join(packageDir, 'build', 'Release', 'angel.node')));
    assert.equal(version(app, { LIBC: 'musl' }), `angel ${VERSION} (not locked)`);
  });
});
