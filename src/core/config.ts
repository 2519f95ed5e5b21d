// Pure: a config file's text as options, and the merge of a file with flags (flags win, key by key). What
// each key means and how its value is parsed is the option table's (options.ts).
import { UsageError } from './errors.js';
import { FLAGS, isOptionKey, type Origins } from './options.js';
import { environment } from './parse.js';
import type { Options } from './types.js';

/** Reads a config file's JSON text into Options; every key it sets is named after the file in errors. */
export function parseConfigText(textContent: string, file: string): { options: Partial<Options>; origins: Origins } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(textContent);
  } catch (error) {
    throw new UsageError('--config', file, `expected JSON (${syntaxErrorAt(textContent, (error as Error).message)})`);
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

/** Where JSON.parse stopped, as a line and column, and never the text there: V8's message quotes the start of
 * the file (`"root:x:0:0"... is not valid JSON`), which is not for a message to repeat. */
function syntaxErrorAt(textContent: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return /Unexpected end/.test(message) ? 'it ends too soon' : 'a syntax error';
  const before = textContent.slice(0, Number(position));
  const line = before.split('\n').length;
  return `a syntax error at line ${line}, column ${Number(position) - before.lastIndexOf('\n')}`;
}

/** Flags win over the file, key by key; env is merged variable by variable (a flag's value wins), and the
 * variables the file gave are recorded (Origins.envFromFile). */
export function mergeOptions(
  file: { options: Partial<Options>; origins: Origins } | null,
  flags: Partial<Options>,
): { options: Options; origins: Origins } {
  const options = { ...file?.options } as Record<string, unknown>;
  const origins: Origins = { ...file?.origins };
  const fileEnv = file?.options.env === undefined ? null : environment(file.options.env, file.origins.env ?? FLAGS.env);
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    options[key] = value;
    delete origins[key as keyof Options];
  }
  if (fileEnv !== null) {
    const flagEnv = flags.env === undefined ? {} : environment(flags.env, FLAGS.env);
    options.env = { ...fileEnv, ...flagEnv };
    origins.envFromFile = Object.keys(fileEnv).filter((name) => !Object.hasOwn(flagEnv, name));
  }
  return { options: options as unknown as Options, origins };
}
