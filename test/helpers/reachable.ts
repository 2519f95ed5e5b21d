// What a test runs as another user (nobody) must be where that user can reach it. A clone in a 0700
// directory (a root's home, `mktemp -d`) is out of nobody's reach: execve of a fixture and Node's import of
// the package fail there with EACCES. So those tests run a copy: the package as it runs (package.json,
// dist/src, the addon, the runtime dependencies of package-lock.json) and the fixtures' binaries, in a 0755
// directory under /tmp (world-traversable wherever TMPDIR points), removed when the test process exits.
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let copy: string | null = null;

/** The top-level packages npm installs for a user (not the dev ones), from the lock file. */
function runtimePackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev)
    .map(([path]) => path);
}

/** The copy's root (made once per test process). */
function reachableRoot(): string {
  if (copy !== null) return copy;
  const dir = mkdtempSync('/tmp/angel-reachable-');
  chmodSync(dir, 0o755);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const entries = ['package.json', 'dist/src', 'build/Release', 'prebuilds', 'test/fixtures/bin', ...runtimePackages()];
  for (const entry of entries) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, dereference: true });
  }
  copy = dir;
  return dir;
}

/** A path of this checkout (`dist/src/face/cli.js`, `test/fixtures/bin/try-setuid`) in the copy nobody can reach. */
export function reachable(path: string): string {
  return join(reachableRoot(), path);
}
