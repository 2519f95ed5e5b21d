// Paths root executes on the strength of a check (a locked program, a script's interpreter): walked against
// real directories, files and symlinks this test makes, owned by root or by another user (it runs as root).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkInterpreter, MAX_INTERPRETER_DEPTH, rootOnlyPath } from '../../src/kernel/rootpath.js';

const base = mkdtempSync('/tmp/angel-rootpath-');
chmodSync(base, 0o755);
after(() => rmSync(base, { recursive: true, force: true }));
const NOBODY = 65534;

function dir(name: string, { owner = 0, mode = 0o755 } = {}): string {
  const path = join(base, name);
  mkdirSync(path, { recursive: true });
  chownSync(path, owner, owner);
  chmodSync(path, mode);
  return path;
}

function file(path: string, text: string, { owner = 0, mode = 0o755 } = {}): string {
  writeFileSync(path, text);
  chownSync(path, owner, owner);
  chmodSync(path, mode);
  return path;
}

test('rootOnlyPath: root\'s directories pass; another\'s directory, a writable one, or a sticky one holding the file do not', () => {
  const root = dir('root');
  const program = file(join(root, 'program'), '');
  assert.equal(rootOnlyPath(program, false), program);
  const theirs = dir('theirs', { owner: NOBODY });
  const their = file(join(theirs, 'program'), '');
  assert.throws(() => rootOnlyPath(their, false), { message: `${theirs} is owned by uid ${NOBODY}, mode 0755` });
  const open = dir('open', { mode: 0o777 });
  assert.throws(() => rootOnlyPath(file(join(open, 'program'), ''), false), { message: `${open} is writable by others, mode 0777` });
  const sticky = dir('sticky', { mode: 0o1777 });
  assert.throws(() => rootOnlyPath(file(join(sticky, 'program'), ''), false), { message: `${sticky} is writable by others, mode 1777` });
  // a sticky directory of root's on the way, holding a root-only directory, is fine: /tmp is one
  const inside = join(sticky, 'inside');
  mkdirSync(inside, { mode: 0o755 });
  assert.equal(rootOnlyPath(file(join(inside, 'program'), ''), false), join(inside, 'program'));
});

test('rootOnlyPath: root\'s symlinks are followed and their targets walked too; another user\'s symlink is refused', () => {
  const root = dir('links');
  const target = file(join(dir('links-target'), 'real'), '');
  symlinkSync(target, join(root, 'to-real'));
  assert.equal(rootOnlyPath(join(root, 'to-real'), true), target);
  assert.equal(rootOnlyPath(join(root, 'to-real'), false), join(root, 'to-real'), 'the last one is not followed unless asked');
  symlinkSync('../links-target', join(root, 'dir-link'));
  assert.equal(rootOnlyPath(join(root, 'dir-link', 'real'), false), target, 'a relative link to a directory');
  const theirTarget = file(join(dir('their-target', { owner: NOBODY }), 'real'), '');
  symlinkSync(theirTarget, join(root, 'to-theirs'));
  assert.throws(() => rootOnlyPath(join(root, 'to-theirs'), true), /their-target is owned by uid 65534/);
  const theirLink = join(root, 'their-link');
  symlinkSync(target, theirLink);
  lchownSync(theirLink, NOBODY, NOBODY);
  assert.throws(() => rootOnlyPath(theirLink, true), { message: `${theirLink} is a symlink owned by uid ${NOBODY}` });
  symlinkSync('loop', join(root, 'loop'));
  assert.throws(() => rootOnlyPath(join(root, 'loop'), true), /too many symlinks \(ELOOP\)/);
});

test('checkInterpreter: the interpreter, and its own to the kernel\'s depth, must be root\'s alone; a binary needs none', () => {
  const root = dir('interp');
  const sh = file(join(root, 'sh'), '\x7fELF');
  assert.doesNotThrow(() => checkInterpreter(Buffer.from('\x7fELF'), 'a binary'));
  assert.doesNotThrow(() => checkInterpreter(Buffer.from(`#!${sh} -e\n`), 'script'));
  const writable = file(join(root, 'writable'), '\x7fELF', { mode: 0o775 });
  assert.throws(() => checkInterpreter(Buffer.from(`#!${writable}\n`), 'script'), /script's interpreter .*writable is writable by group or others, mode 0775/);
  const theirs = file(join(root, 'theirs'), '\x7fELF', { owner: NOBODY });
  assert.throws(() => checkInterpreter(Buffer.from(`#!${theirs}\n`), 'script'), /is owned by uid 65534, not root/);
  const inTheirDir = file(join(dir('their-interp', { owner: NOBODY }), 'interp'), '\x7fELF');
  assert.throws(() => checkInterpreter(Buffer.from(`#!${inTheirDir}\n`), 'script'), /script's interpreter .*: .*their-interp is owned by uid 65534/);
  assert.throws(() => checkInterpreter(Buffer.from('#!sh\n'), 'script'), /names a relative interpreter "sh"/);
  // an interpreter that is a script itself: its interpreter is checked too, to the kernel's depth
  const chained = file(join(root, 'chained'), `#!${theirs}\n`);
  assert.throws(() => checkInterpreter(Buffer.from(`#!${chained}\n`), 'script'), /chained's interpreter .*theirs is owned by uid 65534/);
  let link = sh;
  for (let level = 0; level < MAX_INTERPRETER_DEPTH; level++) link = file(join(root, `level${level}`), `#!${link}\n`);
  assert.throws(() => checkInterpreter(Buffer.from(`#!${link}\n`), 'script'), /nested more than 4 deep \(ELOOP\)/);
});
