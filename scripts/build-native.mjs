#!/usr/bin/env node
// Builds the addon with node-gyp against the headers of the node that runs this script. node-gyp would
// otherwise try to download them, and this machine has no network beyond the package registries.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(`angel: node headers not found at ${join(nodedir, 'include', 'node')} (set npm_config_nodedir)`);
  process.exit(1);
}
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], { stdio: 'inherit' });
process.exit(result.status ?? 1);
