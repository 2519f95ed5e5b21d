// Generated bad and edge inputs, for every flag and every config key, through the real CLI (test/e2e/fuzz-*.test.ts).
// Each case ends in a usage error (exit 2, one stderr line `angel: …` naming the flag or the key) or a clean run;
// never a stack trace, never a hang. The cases come from a seeded PRNG: a failure names the seed and the case, and
// ANGEL_FUZZ_SEED=<n> replays (or explores) a run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS, OPTIONS } from '../../src/core/options.js';
import { MAX_ARGS, MAX_ENV, MAX_LISTEN } from '../../src/core/parse.js';
import { cliArgs } from './events.js';
import { scratchDir } from './cleanup.js';

export const SEED = Number(process.env.ANGEL_FUZZ_SEED ?? 20_250_611);
const CASE_TIMEOUT_MS = 5000;
const CONCURRENCY = 4;
const scratch = scratchDir('angel-fuzz-');

/** mulberry32: small, fast and the same everywhere, which is all a reproducible case needs. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** What a run prints when its program ran: a clean run is one where this reached stdout. */
const MARK = 'angel-fuzz-ran';
/** Longer than any usage error angel writes (MAX_SHOWN of the value, a path and the key, the expectation). */
const MAX_LINE = 1000;
/** Where a terminal or a line reader would start a new line. */
const LINE_BREAK = /\r\n?|\n|\u2028|\u2029|\u0085/;

interface Case {
  /** What the case is, for the failure report. */
  label: string;
  /** `check` prints the resolved options as JSON; `run` starts `/bin/echo MARK`. */
  mode: 'check' | 'run';
  args: string[];
  /** The flag, or the config file's `file: key`, that a usage error must name. */
  name: string;
  /** `usage`: must be refused; `any`: refused, or a clean run (exit 0). */
  expect: 'usage' | 'any';
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

const OUTPUT_CAP = 1 << 20;

function runAngel(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    // in the scratch directory: a relative --log-file or --cwd value (`-h`) lands there, not in the checkout;
    // Node's options end before the script, as bin/angel ends them: Node 20 would read an --env-file of angel's
    const child = spawn(process.execPath, cliArgs(...args), { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratch });
    const output = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8').on('data', (chunk: string) => {
        if (output[stream].length < OUTPUT_CAP) output[stream] += chunk;
      });
    }
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, CASE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output, hung });
    });
  });
}

/** Why the outcome breaks the contract, or null when it keeps it. */
function judge(test: Case, outcome: Outcome): string | null {
  if (outcome.hung) return `still running after ${CASE_TIMEOUT_MS} ms`;
  if (/^ {4}at /m.test(outcome.stderr)) return 'a stack trace';
  if (outcome.code === 0) {
    if (test.expect === 'usage') return 'exit 0 where a usage error was due';
    // help or a version printed in place of the work asked for also exits 0
    if (test.mode === 'check' && !outcome.stdout.startsWith('{')) return 'exit 0 without the resolved options';
    // with --log-file the program's output is in the file: angel's start event says it ran
    if (test.mode === 'run' && !outcome.stdout.includes(MARK) && !outcome.stderr.includes('"event":"start"')) return 'exit 0 without running the program';
    return null;
  }
  if (outcome.code !== 2) return `exit ${outcome.code ?? outcome.signal}, not 2 or 0`;
  const lines = outcome.stderr.split(LINE_BREAK);
  if (lines.pop() !== '') return 'stderr does not end its line';
  if (lines.length !== 1) return `${lines.length} stderr lines, not 1`;
  const [line = ''] = lines;
  if (!line.startsWith('angel: ')) return 'the line does not start with "angel: "';
  if (!line.includes(test.name)) return `the line does not name ${test.name}`;
  if (line.length > MAX_LINE) return `a line of ${line.length} characters`;
  return null;
}

const show = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);

/** Runs every case, a few at a time, and fails once with every broken case listed, each reproducible. */
export async function runCases(cases: readonly Case[]): Promise<void> {
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const test = cases[next++] as Case;
      const outcome = await runAngel(test.args);
      const why = judge(test, outcome);
      if (why === null) continue;
      failures.push(`seed ${SEED}, ${test.label}: ${why}\n  angel ${test.args.map((arg) => show(JSON.stringify(arg), 120)).join(' ')}\n`
        + `  exit ${outcome.code ?? outcome.signal}; stderr: ${show(outcome.stderr, 600).replace(/\n/g, '\n    ')}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases broke the contract:\n${failures.join('\n')}`);
}

let files = 0;
/** A config file with this text; its path is what errors name. */
function configFile(text: string): string {
  const file = join(scratch, `c${files++}.json`);
  writeFileSync(file, text);
  return file;
}

const base = configFile(JSON.stringify({ program: '/bin/true' }));
const deep = (levels: number): string => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const deepObject = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

// Values from a command line: no NUL bytes (execve cannot carry them), but everything else at the edges.
const WORDS = [
  '', ' ', '0', '-0', '1', '-1', '007', '1.5', '1e999', '-1e999', 'NaN', 'Infinity', '0x10', '9'.repeat(400),
  '18446744073709551616', '9007199254740993', '4294967296', '2147483648', 'ünïcödé', '😀', '\u202e', 'a\nb', 'a\rb',
  '\u2028', '\u0085', '\x1b[31m', 'x'.repeat(10_000), '-h', '--help', '-V', '--version', '--', '-', '--max-mem',
  '=', 'A=1', 'A=', '=B', 'nofile=1:0', 'core=unlimited', 'as=1e3', 'unix:', 'unix:/', '[::1]:0', '127.0.0.1:65536',
  'tcp:0', 'delay:99999999999', 'SIGKILL', 'SIGUNUSED', '0777', '99999', '512M', '1.5G', '8P', 'root', 'nobody',
  '/', '/nonexistent', '.', 'json', 'never', 'exec',
];

// Values from a config file: wrong types, NUL bytes, and sizes at the edges.
const JSON_VALUES = [
  'null', 'true', 'false', '0', '-1', '1.5', '1e308', '-0', '""', '" "', '"\\u0000"', '"a\\u0000b"', '"\\n"',
  '"\\u2028"', JSON.stringify('y'.repeat(10_000)), '[]', '{}', '[[]]', '{"a":{}}', '[1]', '["a"]', '[null]',
  '{"soft":1,"hard":2}', '["A=1","A=2"]', '{"A":["x"]}', '{"A":{"B":"c"}}', '[{"a":1}]',
];

/** The option table's help groups in two halves, a test file for each half's flags and one for its keys, so
 * that every file keeps within its time limit on a busy machine: how the program is run, and what angel opens
 * and hands it (sockets, identity and environment, logs, monitoring). */
const HALVES = {
  process: ['Memory cap', 'Limits', 'Restarts', 'Signals'],
  io: ['Sockets and readiness', 'Identity and environment', 'Logs', 'Monitoring'],
} as const;
export type Half = keyof typeof HALVES;
const halfOf = (group: string): Half | undefined => (Object.keys(HALVES) as Half[]).find((half) => (HALVES[half] as readonly string[]).includes(group));
const unhalved = OPTIONS.filter((option) => halfOf(option.group) === undefined).map((option) => option.flag);
if (unhalved.length > 0) throw new Error(`fuzz: no half for the group of ${unhalved.join(', ')}`);

// the switches (--clear-env, --cgroup) take no value: the table's rows without a placeholder
const valueFlags = (half: Half): string[] => OPTIONS.filter((option) => 'value' in option && halfOf(option.group) === half).map((option) => option.flag);
// the program and its arguments are the process half's
const keys = (half: Half): string[] => Object.keys(FLAGS).filter((key) => {
  const option = OPTIONS.find((row) => row.key === key);
  return option === undefined ? half === 'process' : halfOf(option.group) === half;
});

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

const checkCase = (label: string, name: string, words: string[], expect: Case['expect'] = 'any', config = base): Case =>
  ({ label, name, mode: 'check', args: ['check', '--config', config, ...words], expect });
// --restart never after the words: a run where a fuzzed value is taken ends with the child, not a restart loop
const runCase = (label: string, name: string, words: string[], expect: Case['expect'] = 'any'): Case =>
  ({ label, name, mode: 'run', args: ['--log-format', 'json', ...words, '--restart', 'never', '--', '/bin/echo', MARK], expect });

// What an option's value may look like to a parser that takes it for an option. A run shows it: help or a
// version printed there is an exit 0 without the program. --cwd and --log-file take any text, so they are checked.
const DASHES = ['-h', '--help', '-V', '--version', '--', '-', '--restart'];
const TEXT_FLAGS = new Set(['--cwd', '--log-file']);

/** Each flag of one half with edge and bad values; the io half's also --config with what is no config, and
 * the shapes of bugs found here once. */
export function flagCases(random: () => number, half: Half): Case[] {
  const cases: Case[] = [];
  for (const flag of valueFlags(half)) {
    const value = pick(random, WORDS);
    cases.push(checkCase(`${flag} ${show(JSON.stringify(value), 40)}`, flag, random() < 0.2 ? [`${flag}=${value}`] : [flag, value]));
    const dash = pick(random, DASHES);
    const words = [flag, dash];
    cases.push(TEXT_FLAGS.has(flag) ? checkCase(`${flag} ${dash}`, flag, words) : runCase(`run ${flag} ${dash}`, flag, words));
    cases.push(checkCase(`${flag} with no value`, flag, [flag], 'usage'));
    cases.push(checkCase(`${flag} twice`, flag, [flag, pick(random, WORDS), flag, pick(random, WORDS)]));
  }
  if (half === 'process') return cases;
  for (const value of ['', '/nonexistent', scratch, '/dev/zero', '-h', '--version', 'x'.repeat(5000)]) {
    cases.push({ label: `--config ${show(JSON.stringify(value), 40)}`, name: '--config', mode: 'check', args: ['check', '--config', value], expect: 'usage' });
  }
  // each the shape of a bug found here once
  cases.push(
    runCase('run --env -h', '--env', ['--env', '-h'], 'usage'),
    runCase('run --max-mem --version', '--max-mem', ['--max-mem', '--version'], 'usage'),
    { label: 'run with -h in the program\'s arguments', name: '', mode: 'run', args: ['--restart', 'never', '--', '/bin/echo', MARK, '-h'], expect: 'any' },
    checkCase('--max-mem 10 KB', '--max-mem', ['--max-mem', 'x'.repeat(10_000)], 'usage'),
    checkCase('--user 2^32', '--user', ['--user', '4294967296'], 'usage'),
    checkCase('--group 2^64', '--group', ['--group', '18446744073709551616'], 'usage'),
    checkCase('unknown flag', '--max-memory', ['--max-memory', '1G'], 'usage'),
    checkCase('unknown flag with a line break', '--x', ['--x\ny'], 'usage'),
    checkCase('unknown flag with a carriage return', '--a', ['--a\rb'], 'usage'),
    checkCase('unknown 10 KB flag', '--yyyy', [`--${'y'.repeat(10_000)}`], 'usage'),
  );
  return cases;
}

/** Each config key of one half with wrong types, NUL bytes and deep nesting; the io half's also deep values
 * inside a key, unknown keys, and texts that are no JSON object. */
export function configCases(random: () => number, half: Half): Case[] {
  const cases: Case[] = [];
  const withKey = (label: string, key: string, valueText: string, expect: Case['expect'] = 'any'): void => {
    const file = configFile(`{"program": "/bin/true", ${JSON.stringify(key)}: ${valueText}}`);
    cases.push(checkCase(label, `${file}: ${key}`, [], expect, file));
  };
  for (const key of keys(half)) {
    const value = pick(random, JSON_VALUES);
    withKey(`config ${key}: ${show(value, 40)}`, key, value);
    withKey(`config ${key} nested 5000 deep`, key, random() < 0.5 ? deep(5000) : deepObject(5000), 'usage');
  }
  if (half === 'process') return cases;
  for (const [where, text] of [['env', `{"A": ${deep(20_000)}}`], ['rlimits', `{"nofile": {"soft": ${deep(6000)}, "hard": 1}}`],
    ['rlimits', `[${deep(100_000)}]`], ['listen', deep(50_000)]] as const) {
    withKey(`config ${where} holding a deep value`, where, text, 'usage');
  }
  for (const key of ['maxMemory', 'max-mem', 'MaxMem', 'toString', '__proto__', 'constructor', 'ünï', 'a b', '']) {
    withKey(`unknown key ${JSON.stringify(key)}`, key, pick(random, JSON_VALUES), 'usage');
  }
  const file = configFile(`{"program": "/bin/true", "${'k'.repeat(10_000)}": 1}`);
  cases.push(checkCase('a 10 KB unknown key', `${file}: ${'k'.repeat(100)}`, [], 'usage', file));
  for (const text of ['', '[]', '"x"', '1', 'null', '{', '{"program": "/bin/true",}', "{'program': 1}", '\ufeff{}', '{"a":1}\n{"b":2}',
    '{\n"program": x\n}', deep(200_000)]) {
    cases.push(checkCase(`config text ${show(JSON.stringify(text), 40)}`, '--config', [], 'usage', configFile(text)));
  }
  return cases;
}

export function limitCases(): Case[] {
  const listens = (count: number): string[] => Array.from({ length: count }, () => ['--listen', '127.0.0.1:0']).flat();
  const many = (key: string, value: unknown): string => configFile(JSON.stringify({ program: '/bin/echo', restart: 'never', [key]: value }));
  const argsFile = many('args', Array.from({ length: MAX_ARGS + 1 }, () => 'a'));
  const envFile = many('env', Array.from({ length: MAX_ENV + 1 }, (_, i) => `K${i}=`));
  return [
    checkCase(`${MAX_LISTEN + 1} --listen`, '--listen', listens(MAX_LISTEN + 1), 'usage'),
    runCase('1022 --listen, run', '--listen', listens(1022), 'usage'),
    // such files are past the config file's own bound (1 MiB), which is what refuses them first
    { label: `${MAX_ARGS + 1} args from a config, run`, name: '--config', mode: 'run', args: ['--log-format', 'json', '--config', argsFile], expect: 'usage' },
    checkCase(`${MAX_ENV + 1} env entries from a config`, '--config', [], 'usage', envFile),
  ];
}

/** Runs that start a child: flags whose every value either is refused before the spawn or lets the program run. */
export function spawnCases(random: () => number): Case[] {
  const flags = ['--env', '--listen', '--user', '--group', '--socket-mode', '--kill-timeout', '--max-restarts', '--stop-signal',
    '--reload', '--log-level', '--overrun-samples', '--restart-window', '--max-restart-delay', '--log-file', '--cwd'];
  const values = [...WORDS, '127.0.0.1:0', `unix:${join(scratch, 'socket')}`, 'A=1', 'nobody', '65534', '0660', 'debug',
    '/nonexistent/x.log', scratch, join(scratch, 'log.txt')];
  return Array.from({ length: 16 }, () => {
    const flag = pick(random, flags);
    const value = pick(random, values);
    return runCase(`run ${flag} ${show(JSON.stringify(value), 40)}`, flag, [flag, value]);
  });
}

