// Where a Node process's time goes, from a V8 CPU profile (node --cpu-prof): the self time of its samples summed
// by where the code lives (a package of node_modules, a file of angel's, Node's own internals), for a table's
// notes when a target is out of reach: a profile shows why, where a moved target would not.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './compile.js';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>;
  /** µs, as timeDeltas. */
  endTime: number;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: `pino` (a package), `angel src/face/cli.js`, `node:internal/modules`, `(gc)`. */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const file = url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) ? `angel ${file.slice(ROOT.length + 1).replace(/^dist\//, '')}` : file;
}

/** "node:internal/modules 41 ms, commander 12 ms, …": the `top` places of the one profile in `dir`, by self time;
 * with `lastMs`, of the samples of the profile's last that many ms only (a window before the process ended). */
function profileSummary(dir: string, top = 8, lastMs = Infinity): string {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const places = new Map(profile.nodes.map((node) => [node.id, placeOf(node.callFrame.url, node.callFrame.functionName)]));
  const self = new Map<string, number>();
  const from = profile.endTime - lastMs * 1000;
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    at += profile.timeDeltas[index] ?? 0;
    if (at < from) return;
    total += ms;
    const place = places.get(id) ?? '?';
    self.set(place, (self.get(place) ?? 0) + ms);
  });
  const ranked = [...self].filter(([place]) => place !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  const span = Number.isFinite(lastMs) ? ` (its last ${(lastMs / 1000).toFixed(0)} s)` : '';
  return `${(total - (self.get('(idle)') ?? 0)).toFixed(0)} ms busy of ${total.toFixed(0)} ms profiled${span}: ${ranked.map(([place, ms]) => `${place} ${ms.toFixed(1)} ms`).join(', ')}`;
}

/** One more run under `node --cpu-prof`, summarized (profileSummary's `top` places): `run` is handed the flags for
 * the Node it starts, and may return the window to summarize (its last that many ms) in place of `lastMs`. The
 * profile's directory is made and removed here; a run that fails is said where the summary would be. */
export async function profiledRun(run: (cpuProfFlags: string[]) => Promise<number | void> | number | void, top?: number, lastMs?: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'angel-bench-profile-'));
  try {
    const window = await run(['--cpu-prof', '--cpu-prof-dir', dir]);
    return profileSummary(dir, top, typeof window === 'number' ? window : lastMs);
  } catch (error) {
    return `no profile (${(error as Error).message})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
