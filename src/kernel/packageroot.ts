// Where the package is installed: found from this module's own file, three levels below the package's root in
// dist/src/kernel, as the command's bundle is in dist/src/face.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root directory. From import.meta.filename, a path, where Node has it (20.11 on) and always in
 * the command's bundle (scripts/bundle.mjs defines it as the bundle's __filename): the module's URL would be made
 * and parsed again at every launch before its first spawn, half a millisecond. */
export const packageRoot = (): string => join(dirname(import.meta.filename ?? fileURLToPath(import.meta.url)), '..', '..', '..');
