// What `angel bench` adds to run's flags, its help and its settings: what the command line needs to parse, so
// the run itself (bench.ts, its progress bar and its reports) is loaded only when a bench runs.
import { Option, type Command } from 'commander';
import { count, text } from '../core/parse.js';
import { parseProbe, type ProbeTarget } from '../core/probe.js';
import { checkWritable, type FsRights } from '../driver/outside.js';
import type { Flags } from './flags.js';

export interface BenchSettings {
  runs: number;
  warmup: number;
  exportJson: string | null;
  exportCsv: string | null;
  exportMarkdown: string | null;
  probe: ProbeTarget | null;
}

const DEFAULT_RUNS = 10;

/** The flags only `bench` has, beside every option of `run`. */
export function addBenchOptions(command: Command): Command {
  const group = 'Benchmark:';
  return command
    // hyperfine's short flags and export names, for its users
    .addOption(new Option('-r, --runs <n>', `measured cycles (default: ${DEFAULT_RUNS})`).helpGroup(group))
    .addOption(new Option('-w, --warmup <n>', 'cycles run first and left out of the figures (default: 0)').helpGroup(group))
    .addOption(new Option('--export-json <file>', 'every sample, the summaries (hyperfine\'s fields too, in seconds) and the warnings, as JSON').helpGroup(group))
    .addOption(new Option('--export-csv <file>', 'one line a phase in hyperfine\'s columns, in seconds').helpGroup(group))
    .addOption(new Option('--export-markdown <file>', 'the table as Markdown').helpGroup(group))
    .addOption(new Option('--probe <target>', 'tcp:PORT or http://127.0.0.1:PORT/PATH: a client loop during the reloads counts what failed').helpGroup(group));
}

export const BENCH_HELP = `
Each cycle starts a fresh supervisor, as \`angel run\` would with the same options, and times:
  start    spawn -> ready (angel: spawn -> exec; the program: exec -> ready as --ready defines it)
  restart  SIGKILL to the child -> the next generation ready (angel: SIGKILL -> next exec)
  reload   SIGHUP -> the next generation ready and the old one gone (angel: SIGHUP, or the old one's
           death without --listen, -> next exec); not with --reload signal
  stop     the stop signal -> every process of the tree gone
and each generation's peak memory (the tree's RSS, as --max-mem counts it, sampled from its readiness on, and
with --ready exec from one --sample-interval after its exec: a generation without such a sample is counted as
not measured). angel's share is its part of the whole, summed over the runs. A crash is always restarted at once (--restart never and --max-restarts 0 are
lifted). The program's output goes to a scratch file unless --log-file is given; angel's event log is not
written. A program that cannot start, or exits on its own during a cycle, ends the run with
angel's status for it (127 not found, 126 not executable, else its own status); SIGINT stops it and exits 130.

Example:
  angel bench -r 10 -w 1 --listen 8080 --ready fd --probe http://127.0.0.1:8080/ --export-json bench.json -- node server.mjs
`;

export function benchSettings(flags: Flags, rights: FsRights | null = null): BenchSettings {
  const file = (flag: string, value: unknown): string | null => {
    if (value === undefined) return null;
    const path = text(value, flag);
    checkWritable(path, flag, rights);
    return path;
  };
  return {
    runs: flags.runs === undefined ? DEFAULT_RUNS : count(flags.runs, '--runs', 1),
    warmup: flags.warmup === undefined ? 0 : count(flags.warmup, '--warmup', 0),
    exportJson: file('--export-json', flags.exportJson),
    exportCsv: file('--export-csv', flags.exportCsv),
    exportMarkdown: file('--export-markdown', flags.exportMarkdown),
    probe: flags.probe === undefined ? null : parseProbe(text(flags.probe, '--probe')),
  };
}
