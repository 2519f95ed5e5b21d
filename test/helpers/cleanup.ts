// Whatever a test starts ends with the test, passed or failed: the helpers that start processes register how
// to end them here, and the hooks below run that when the test that registered them ends. Importing this
// module installs the hooks for the whole file (node:test runs root-level hooks around every test, nested
// ones included); registrations nest with the tests, so a subtest ends only what it started itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach } from 'node:test';

type Cleanup = () => void | Promise<void>;

/** One list per test being run, innermost last; the first holds what starts outside any test. */
const scopes: Cleanup[][] = [[]];

async function runAll(cleanups: Cleanup[]): Promise<void> {
  // the latest first, as try/finally would; one failing must not spare the others
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {}
  }
}

beforeEach(() => {
  scopes.push([]);
});
afterEach(async () => {
  if (scopes.length > 1) await runAll(scopes.pop() as Cleanup[]);
});
after(async () => {
  await runAll(scopes.splice(0).flat());
  scopes.push([]);
});

/** Runs `cleanup` when the current test ends (or, outside a test, when the file's tests are done). */
export function atTestEnd(cleanup: Cleanup): void {
  (scopes.at(-1) as Cleanup[]).push(cleanup);
}

/** A fresh directory under the system's temporary one, removed with all it holds when the current test ends (or,
 * made outside a test, when the file's tests are done): a test run leaves nothing in /tmp. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  atTestEnd(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
