// The layers' rules, held on the sources themselves (docs/ARCHITECTURE.md, Layers): core is pure, the face
// reaches the kernel only through the driver, nothing below calls up, and one module imports the addon.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/events.js';

const SRC = join(ROOT, 'src');
type Layer = 'core' | 'kernel' | 'driver' | 'face' | 'index';

/** Every source file with the layers and files it imports (relative imports only). */
function sources(): Array<{ file: string; layer: Layer; imports: Array<{ layer: Layer; file: string }> }> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  return files.map((name) => {
    const text = readFileSync(join(SRC, name), 'utf8');
    const layerOf = (path: string): Layer => (path.includes('/') ? path.split('/')[0] as Layer : 'index');
    const imports = [...text.matchAll(/^(?:import|export)[^;]*? from '(\.{1,2}\/[^']+)';/gm)].map((match) => {
      const target = relative(SRC, join(SRC, name, '..', match[1] as string));
      return { layer: layerOf(target), file: target };
    });
    return { file: name, layer: layerOf(name), imports };
  });
}

test('each layer imports only what the rules allow', () => {
  const allowed: Record<Layer, readonly Layer[]> = {
    core: ['core'],
    kernel: ['core', 'kernel'],
    driver: ['core', 'kernel', 'driver'],
    face: ['core', 'driver', 'face'],
    index: ['core', 'driver', 'face'],
  };
  const broken = sources().flatMap(({ file, layer, imports }) =>
    imports.filter((target) => !allowed[layer].includes(target.layer)).map((target) => `${file} -> ${target.file}`));
  assert.deepEqual(broken, []);
});

test('only kernel/syscalls.ts imports the addon\'s module, and the face has a door to the kernel in the driver', () => {
  const all = sources();
  const native = all.filter(({ imports }) => imports.some((target) => target.file === join('kernel', 'native.js')));
  assert.deepEqual(native.map(({ file }) => file), [join('kernel', 'syscalls.ts')]);
  assert.ok(all.some(({ layer, imports }) => layer === 'face' && imports.some((target) => target.file === join('driver', 'outside.js'))));
});
