// `angel bench [run options] [--runs N] [--warmup N] [--export-json F] [--export-markdown F] [--probe P] --
// <program> [args...]`: the lifecycle of the user's own program, timed as hyperfine times commands. Each cycle
// drives a fresh supervisor, built as `angel run` builds it, through start, crash restart, reload and stop
// (driver/bench-cycle.ts); the samples make one table (bench-report.ts). The program's output goes to a scratch file
// (hyperfine discards a command's output too), quoted when a cycle fails.
import { cpus, release } from 'node:os';
import { Presets, SingleBar } from 'cli-progress';
import { oneLine } from '../core/errors.js';
import { isoTime } from '../core/loglines.js';
import type { ResolvedOptions } from '../core/options.js';
import { formatProbe } from '../core/probe.js';
import { formatReady } from '../core/readiness.js';
import { signalNumber } from '../core/signames.js';
import { createSupervisor } from '../driver/assemble.js';
import type { Supervisor } from '../driver/supervisor.js';
import { lastLines, makeScratch, writeExport } from '../driver/outside.js';
import type { StartingUser } from '../driver/launch.js';
import { runCycle, type CycleResult } from '../driver/bench-cycle.js';
import { BenchFailure, Interrupted, type Phase } from '../driver/bench-watch.js';
import { jsonReport, renderCsv, renderMarkdown, renderText, warningsOf, type Collected, type RunFacts } from './bench-report.js';
import type { BenchSettings } from './bench-flags.js';

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const OUTPUT_LINES = 5;

/** The signals that end a run midway: the current program is stopped as `angel run` stops it (the signal
 * itself for INT and TERM; a second one kills at once), and the cycle gives up waiting. */
class Interruption {
  signal: NodeJS.Signals | null = null;
  current: { supervisor: Supervisor; watch: { fail(error: Error): void } | null } | null = null;
  readonly #handlers = new Map<NodeJS.Signals, () => void>();

  constructor(stopSignal: NodeJS.Signals) {
    for (const signal of INTERRUPTS) {
      const handler = (): void => {
        this.signal ??= signal;
        this.current?.watch?.fail(new Interrupted(signal));
        this.current?.supervisor.shutdown(signal === 'SIGHUP' ? stopSignal : signal, signal);
      };
      this.#handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  check(): void {
    if (this.signal !== null) throw new Interrupted(this.signal);
  }

  remove(): void {
    for (const [signal, handler] of this.#handlers) process.off(signal, handler);
  }
}

/** On stderr when it is a terminal; nothing otherwise (a log or a pipe gets no escape codes). */
function progressBar(total: number): SingleBar | null {
  if (!process.stderr.isTTY) return null;
  const bar = new SingleBar({ format: 'angel bench {bar} {value}/{total} cycles', stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  bar.start(total, 0);
  return bar;
}

function collect(into: Collected, cycle: number, result: CycleResult): void {
  for (const [phase, sample] of Object.entries(result.phases) as Array<[Phase, CycleResult['phases'][Phase]]>) {
    if (sample) into.samples[phase].push({ cycle, ...sample });
  }
  for (const entry of result.memory) into.memory.push({ cycle, ...entry });
  into.notMeasured += result.notMeasured;
  if (result.probe && into.probe) {
    into.probe.requests += result.probe.requests;
    into.probe.failed += result.probe.failed;
    for (const [cause, times] of Object.entries(result.probe.errors)) into.probe.errors[cause] = (into.probe.errors[cause] ?? 0) + times;
  }
}

export async function bench(given: ResolvedOptions, forUser: StartingUser | null, settings: BenchSettings): Promise<number> {
  const scratch = given.logFile === null ? makeScratch(forUser) : null;
  const options: ResolvedOptions = {
    ...given,
    restart: given.restart === 'never' ? 'on-failure' : given.restart,
    maxRestarts: Math.max(1, given.maxRestarts),
    logFile: given.logFile ?? (scratch?.logPath as string),
  };
  const facts: RunFacts = {
    command: oneLine([options.program, ...options.args].join(' ')),
    runs: settings.runs,
    warmup: settings.warmup,
    readyExec: options.ready.kind === 'exec',
    stopSignal: options.stopSignal,
    killTimeout: options.killTimeout,
    reloadSkipped: options.reload === 'signal' ? '--reload signal forwards SIGHUP, and the program\'s own reload is not visible to angel' : null,
  };
  const collected: Collected = {
    samples: { start: [], restart: [], reload: [], stop: [] },
    memory: [],
    notMeasured: 0,
    probe: settings.probe && { target: formatProbe(settings.probe), requests: 0, failed: 0, errors: {} },
  };
  const total = settings.warmup + settings.runs;
  const interruption = new Interruption(options.stopSignal);
  const progress = progressBar(total);
  try {
    for (let cycle = 1; cycle <= total; cycle++) {
      interruption.check();
      const supervisor = createSupervisor(options, forUser);
      interruption.current = { supervisor, watch: null };
      const onWatch = (watch: { fail(error: Error): void } | null): void => {
        if (interruption.current) interruption.current.watch = watch;
      };
      const result = await runCycle(supervisor, { number: cycle, options, probe: settings.probe, onWatch });
      interruption.current = null;
      if (cycle > settings.warmup) collect(collected, cycle - settings.warmup, result);
      progress?.increment();
    }
  } catch (error) {
    progress?.stop();
    // after an interrupt, whatever failed (the program ended by the signal, say) is its consequence
    const signal = error instanceof Interrupted ? error.signal : interruption.signal;
    if (signal !== null) {
      process.stderr.write(`angel bench: interrupted by ${signal}; the program was stopped and nothing was exported\n`);
      return 128 + signalNumber(signal);
    }
    if (!(error instanceof BenchFailure)) throw error;
    process.stderr.write(`angel bench: ${oneLine(error.message)}\n`);
    const output = lastLines(options.logFile as string, OUTPUT_LINES, forUser);
    if (output.length > 0) {
      const where = scratch ? 'its last output' : `its last output, in ${options.logFile}`;
      process.stderr.write(`angel bench: ${where}:\n${output.map((line) => `  ${oneLine(line)}\n`).join('')}`);
    }
    return error.status;
  } finally {
    progress?.stop();
    interruption.remove();
    scratch?.remove();
  }

  const warnings = warningsOf(collected, facts);
  process.stdout.write(`${renderText(collected, facts)}\n`);
  for (const warning of warnings) process.stderr.write(`${warning}\n`);
  if (settings.exportJson !== null) {
    const extra = {
      options: {
        ready: formatReady(options.ready), listen: options.listen.map((spec) => spec.text), stopSignal: options.stopSignal,
        killTimeout: options.killTimeout, sampleInterval: options.sampleInterval, maxMem: options.maxMem, reload: options.reload,
      },
      machine: { node: process.version, kernel: release(), cpus: cpus().length },
      date: isoTime(Date.now()),
    };
    writeExport(settings.exportJson, `${JSON.stringify(jsonReport(collected, facts, extra, warnings), null, 2)}\n`, '--export-json', forUser);
  }
  if (settings.exportCsv !== null) writeExport(settings.exportCsv, renderCsv(collected, facts), '--export-csv', forUser);
  if (settings.exportMarkdown !== null) writeExport(settings.exportMarkdown, renderMarkdown(collected, facts, warnings), '--export-markdown', forUser);
  return 0;
}
