// Every example of the README (each line of its sh blocks that runs angel) and of angel's own help (each line
// that starts with `angel`, in `angel --help` and in every command's help), run as written, by sh, in a
// directory holding the files they name, taken from the README itself: server.mjs, server.py and server.go (its
// fd-3 servers), lighttpd.conf (its lighttpd section), and for `angel check --config angel.json` a config of
// this module's. The one change made to them: port 8080 becomes a free port, in the command and in
// lighttpd.conf, so that runs never collide. Each example has its expectation in EXPECTED below, and an example
// without one fails (test/e2e/examples.test.ts): a new example is a new test. The tests are in three files by
// kind of example (test/e2e/examples*.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { AngelRun, cliArgs, ROOT } from './events.js';
import { block, readmeExamples } from './readme.js';
import { freePort } from '../../support/net.js';
import { scratchDir } from './cleanup.js';

const FD3 = 'Your server takes its socket from fd 3, and drains on SIGTERM';

/** The longest an example's step may take: well under the runner's 60 s for the whole file, so that an example
 * that hangs fails by its own name and with angel's log, and the file still ends. */
const WAIT_MS = 30_000;

/** What the README's servers and lighttpd answer at / (lighttpd serves the index.html this test puts there). */
const HELLO = 'hello\n';

const has = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const NEEDS: Readonly<Record<string, string | false>> = {
  python3: has('python3', ['--version']) ? false : 'needs python3',
  go: has('go', ['version']) ? false : 'needs go (apt-get install golang-go)',
  lighttpd: has('lighttpd', ['-v']) || process.env.CI ? false : 'needs lighttpd on PATH (apt-get install lighttpd)',
};

export type Expected =
  /** It serves: `hello` at / over IPv4 and IPv6; `stop` (SIGTERM unless said) to angel then ends it with `status`. */
  | { kind: 'serves'; status: number; stop?: NodeJS.Signals; needs?: keyof typeof NEEDS }
  /** angel check: every check passes, the options are printed. */
  | { kind: 'checks' }
  /** angel bench: the table, and the export with no failed probe. */
  | { kind: 'benches' }
  /** examples/leak.js, run from the checkout: capped, restarted three times, given up on with 143. */
  | { kind: 'gives up' }
  /** a completion script written where the line puts it. */
  | { kind: 'writes'; file: string; holds: string };

export const EXPECTED: Readonly<Record<string, Expected>> = {
  'bin/angel --max-mem 100M --max-restarts 3 --min-uptime 10s -- node examples/leak.js': { kind: 'gives up' },
  'angel --listen 8080 --ready fd --max-mem 512M -- node server.mjs': { kind: 'serves', status: 0 },
  'angel check --user www-data --max-mem 512M -- node server.mjs': { kind: 'checks' },
  'angel --listen 8080 --ready fd -- node server.mjs': { kind: 'serves', status: 0 },
  'angel --listen 8080 -- python3 server.py': { kind: 'serves', status: 0, needs: 'python3' },
  'go build -o server server.go && angel --listen 8080 -- ./server': { kind: 'serves', status: 0, needs: 'go' },
  'mkdir -p ~/.local/share/bash-completion/completions && angel completion bash > ~/.local/share/bash-completion/completions/angel':
    { kind: 'writes', file: '.local/share/bash-completion/completions/angel', holds: 'complete -F _angel angel' },
  'mkdir -p ~/.zfunc && angel completion zsh > ~/.zfunc/_angel': { kind: 'writes', file: '.zfunc/_angel', holds: '#compdef angel' },
  'angel --max-mem 90% --listen 8080 --ready fd -- node server.mjs': { kind: 'serves', status: 0 },
  // SIGINT, lighttpd's graceful stop (its SIGTERM is the immediate one, exit 1)
  'angel --listen 8080 --stop-signal SIGINT --max-mem 256M -- lighttpd -D -f lighttpd.conf': { kind: 'serves', status: 0, stop: 'SIGINT', needs: 'lighttpd' },
  'angel --listen 8080 --stop-signal SIGINT --max-mem 1G -- lighttpd -D -f lighttpd.conf': { kind: 'serves', status: 0, stop: 'SIGINT', needs: 'lighttpd' },
  'angel bench -r 10 -w 1 --listen 8080 --ready fd --probe http://127.0.0.1:8080/ --export-json bench.json -- node server.mjs': { kind: 'benches' },
  'angel check --config angel.json': { kind: 'checks' },
  'angel --log-file app.log --log-timestamps --log-max-size 10M --log-keep 5 --listen 8080 --ready fd -- node server.mjs': { kind: 'serves', status: 0 },
};

/** The examples in angel's help: every line, of `angel --help` and each command's, indented by two spaces (what
 * follows one, further in, says what it does), that starts with `angel` or runs it after `&&`. */
function helpExamples(): string[] {
  const commands = ['--help', ...['run', 'check', 'bench', 'status', 'completion'].map((command) => `help ${command}`)];
  return commands.flatMap((words) => execFileSync(process.execPath, cliArgs(...words.split(' ')), { encoding: 'utf8' }).split('\n'))
    .filter((line) => /^ {2}(angel |[^ (][^(]*&& angel )/.test(line))
    .map((line) => line.trim());
}

/** A directory holding what the examples name, reachable by www-data (angel check --user www-data checks that
 * that user can read server.mjs). */
function workplace(port: number): string {
  const dir = scratchDir('angel-example-');
  chmodSync(dir, 0o755);
  const files: Record<string, string> = {
    'server.mjs': block(FD3, 'js'),
    'server.py': block(FD3, 'python'),
    'server.go': block(FD3, 'go'),
    'lighttpd.conf': block('lighttpd', 'conf').replaceAll('8080', String(port)),
    'index.html': HELLO,
    'angel.json': JSON.stringify({ program: 'node', args: ['server.mjs'], listen: String(port), ready: 'fd', maxMem: '512M' }),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  return dir;
}

/** The example as written, 8080 made `port`, run by sh where `angel` is this checkout's command. */
function runExample(example: string, port: number, cwd: string): AngelRun {
  const env = {
    ...process.env,
    PATH: [join(ROOT, 'bin'), dirname(process.execPath), process.env.PATH].join(delimiter),
    HOME: cwd,
    // go build's cache, kept between runs: the standard library is compiled once
    GOCACHE: join(tmpdir(), 'angel-examples-go-cache'),
  };
  return new AngelRun([], { line: example.replaceAll('8080', String(port)), cwd, env });
}

async function holds(example: string, expected: Expected): Promise<void> {
  const port = await freePort();
  const dir = workplace(port);
  const cwd = expected.kind === 'gives up' ? ROOT : dir;
  const run = runExample(example, port, cwd);
  const said = (): string => run.stderrText.join('\n');
  switch (expected.kind) {
    case 'serves': {
      await run.event('ready', () => true, WAIT_MS);
      for (const host of ['127.0.0.1', '[::1]']) {
        const answer = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(WAIT_MS) }).then((response) => response.text())
          .catch((error: unknown) => `${String(error)} (${String((error as { cause?: unknown }).cause ?? '')})`);
        assert.equal(answer, HELLO, `${host}: ${said()}`);
      }
      await run.signalAngel(expected.stop ?? 'SIGTERM');
      assert.equal(await run.status(), expected.status, said());
      break;
    }
    case 'checks': {
      assert.equal(await run.status(), 0, said());
      assert.equal((JSON.parse(run.stdout.items.join('\n')) as { program: string }).program, 'node');
      break;
    }
    case 'benches': {
      assert.equal(await run.status(WAIT_MS), 0, said());
      assert.ok(run.stdout.items.some((line) => /^ {2}reload \(SIGHUP → ready, old gone\)\s+10\s/.test(line)), run.stdout.items.join('\n'));
      const report = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as { probe: { requests: number; failed: number } };
      assert.equal(report.probe.failed, 0);
      assert.ok(report.probe.requests >= 20);
      break;
    }
    case 'gives up': {
      assert.equal(await run.status(WAIT_MS), 143, said());
      // the first start and three restarts, each a quick death: every generation reaches the cap well within
      // --min-uptime (10 s), so each restart counts toward --max-restarts
      assert.equal(run.count('start'), 4, said());
      assert.equal(run.count('overrun'), 4, 'each generation stopped at the cap');
      assert.equal(run.count('giveup'), 1);
      break;
    }
    case 'writes': {
      assert.equal(await run.status(), 0, said());
      assert.ok(existsSync(join(dir, expected.file)));
      assert.ok(readFileSync(join(dir, expected.file), 'utf8').includes(expected.holds));
      break;
    }
  }
}

/** Every example of the README and of angel's help, once each. */
export const examples = (): string[] => [...new Set([...readmeExamples(), ...helpExamples()])];

/** A test for each example whose expectation is of one of these kinds (the examples are split among files by kind,
 * each file under the runner's 60 s on a slow host). */
export function eachExample(title: string, kinds: ReadonlyArray<Expected['kind']>): void {
  describe(title, () => {
    // EXPECTED's examples, which are the README's and the help's (test/e2e/examples.test.ts holds them to it)
    for (const [example, expected] of Object.entries(EXPECTED)) {
      if (!kinds.includes(expected.kind)) continue;
      const needs = expected.kind === 'serves' && expected.needs ? NEEDS[expected.needs] : false;
      test(example, { skip: needs ?? false }, () => holds(example, expected));
    }
  });
}
