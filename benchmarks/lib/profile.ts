// Where a Node process's time goes, from a V8 CPU profile (node --cpu-prof): the self time of its samples summed
// by where the code lives (a package of node_modules, a file of angel's, Node's own internals), for a table's
// notes when a target is out of reach: a profile shows why, where a moved target would not.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './compile.js';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string }; children?: number[] }>;
  /** µs, as timeDeltas. */
  endTime: number;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The addon's one door (src/kernel/syscalls.ts, compiled). */
const DOOR = 'src/kernel/syscalls.js';

/** Where a frame's code lives: `pino` (a package), `angel src/face/cli.js`, `node:internal/modules`, `(gc)`. */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const file = url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) ? `angel ${file.slice(ROOT.length + 1).replace(/^dist\//, '')}` : file;
}

/** What a profiled run may say of its window: its last `lastMs`, and the `count` of `unit`s (restarts, say) it
 * holds, so that each place's time is also given per unit. */
export interface ProfileWindow {
  lastMs?: number;
  /** The window's end instead, on CLOCK_MONOTONIC in us (V8's profile clock on Linux): a moment another process
   * noted, such as a child's first instruction. */
  untilUs?: number;
  per?: { count: number; unit: string };
  /** Also the window's `functions` busiest functions of angel's, by self time. */
  functions?: number;
}

/** "node:internal/modules 41 ms, commander 12 ms, …": the `top` places of the one profile in `dir`, by self time;
 * with `lastMs`, of the samples of the profile's last that many ms only (a window before the process ended); with
 * `per`, each also in µs per unit. */
function profileSummary(dir: string, top = 8, window: ProfileWindow = {}): string {
  const { lastMs = Infinity, untilUs = Infinity, per, functions = 0 } = window;
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const places = new Map(profile.nodes.map((node) => [node.id, placeOf(node.callFrame.url, node.callFrame.functionName)]));
  // the door to the addon, a function per native call, is told apart by function: a call's own arrow function is
  // anonymous, run by `named`, and named here by the door's function that called that (kernel/syscalls.ts)
  const callers = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) callers.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const plain = (node: CpuProfile['nodes'][number]): boolean => node.callFrame.url.endsWith(DOOR) && ['', 'named'].includes(node.callFrame.functionName);
  for (const node of profile.nodes) {
    if (!node.callFrame.url.endsWith(DOOR)) continue;
    let named: typeof node | undefined = node;
    while (named && plain(named)) named = byId.get(callers.get(named.id) ?? -1);
    const name = named?.callFrame.url.endsWith(DOOR) ? named.callFrame.functionName : '';
    if (name !== '') places.set(node.id, `${places.get(node.id) ?? ''} ${name}`);
  }
  const self = new Map<string, number>();
  const own = new Map<string, number>();
  const from = profile.endTime - lastMs * 1000;
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    at += profile.timeDeltas[index] ?? 0;
    if (at < from || at > untilUs) return;
    total += ms;
    const place = places.get(id) ?? '?';
    self.set(place, (self.get(place) ?? 0) + ms);
    const frame = byId.get(id)?.callFrame;
    if (functions > 0 && place.startsWith('angel ') && frame) {
      const name = `${frame.functionName || '(anonymous)'} (${place.slice('angel '.length)})`;
      own.set(name, (own.get(name) ?? 0) + ms);
    }
  });
  const ranked = [...self].filter(([place]) => place !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  const span = Number.isFinite(untilUs)
    ? ` (up to the moment given, ${((untilUs - profile.startTime) / 1000).toFixed(1)} ms after the profile's start)`
    : Number.isFinite(lastMs) ? ` (its last ${lastMs < 10_000 ? `${lastMs.toFixed(0)} ms` : `${(lastMs / 1000).toFixed(0)} s`})` : '';
  const busiest = [...own].sort((a, b) => b[1] - a[1]).slice(0, functions);
  const busiestText = busiest.length > 0 ? `. angel's busiest functions in it: ${busiest.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`).join(', ')}` : '';
  const busy = total - (self.get('(idle)') ?? 0);
  const each = (ms: number): string => (per && per.count > 0 ? `, ${((ms * 1000) / per.count).toFixed(1)} us per ${per.unit}` : '');
  const over = per ? ` over ${per.count} ${per.unit}s` : '';
  return `${busy.toFixed(0)} ms busy of ${total.toFixed(0)} ms profiled${span}${over}${each(busy)}: ${ranked.map(([place, ms]) => `${place} ${ms.toFixed(1)} ms${each(ms)}`).join(per ? '; ' : ', ')}${busiestText}`;
}

/** One more run under `node --cpu-prof`, summarized (profileSummary's `top` places): `run` is handed the flags for
 * the Node it starts, and may return the window to summarize (its last that many ms, or a ProfileWindow) in place
 * of `lastMs`. The profile's directory is made and removed here; a run that fails is said where the summary would
 * be. */
export async function profiledRun(
  run: (cpuProfFlags: string[]) => Promise<number | ProfileWindow | void> | number | ProfileWindow | void,
  top?: number,
  lastMs?: number,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'angel-bench-profile-'));
  try {
    const window = await run(['--cpu-prof', '--cpu-prof-dir', dir]);
    if (typeof window === 'object') return profileSummary(dir, top, window);
    return profileSummary(dir, top, { lastMs: typeof window === 'number' ? window : lastMs });
  } catch (error) {
    return `no profile (${(error as Error).message})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
