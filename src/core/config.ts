// Pure: a config file's text as options, and the merge of a file with flags (flags win, key by key). What
// each key means and how its value is parsed is the option table's (options.ts).
import { UsageError } from './errors.js';
import { isOptionKey, type Origins } from './options.js';
import type { Options } from './types.js';

/** Reads a config file's JSON text into Options; every key it sets is named after the file in errors. */
export function parseConfigText(textContent: string, file: string): { options: Partial<Options>; origins: Origins } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(textContent);
  } catch (error) {
    throw new UsageError('--config', file, `expected JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError('--config', file, 'expected a JSON object of options');
  }
  const origins: Origins = {};
  for (const key of Object.keys(parsed)) {
    if (!isOptionKey(key)) throw new UsageError(`${file}: ${key}`, (parsed as Record<string, unknown>)[key], 'unknown key');
    origins[key] = `${file}: ${key}`;
  }
  return { options: parsed as Partial<Options>, origins };
}

/** Flags win over the file, key by key. */
export function mergeOptions(
  file: { options: Partial<Options>; origins: Origins } | null,
  flags: Partial<Options>,
): { options: Options; origins: Origins } {
  const options = { ...file?.options } as Record<string, unknown>;
  const origins: Origins = { ...file?.origins };
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    options[key] = value;
    delete origins[key as keyof Options];
  }
  return { options: options as unknown as Options, origins };
}
