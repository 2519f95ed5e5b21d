// The option table (core/options.ts) as commander options, and commander's parsed flags back as Options.
// Nothing here names an option: every flag, help line, group and default comes from the table.
import { Option, type Command } from 'commander';
import { OPTIONS, type OptionKey } from '../core/options.js';
import type { Options } from '../core/types.js';

/** What commander parsed: each option under its attribute name, plus --config. */
export type Flags = Record<string, unknown> & { config?: string };

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function defaultText(option: (typeof OPTIONS)[number]): string {
  if ('initialText' in option && option.initialText) return ` (default: ${option.initialText})`;
  const { initial } = option;
  if (initial === null || typeof initial === 'boolean' || (typeof initial === 'object' && !('kind' in initial))) return '';
  const shown = 'show' in option && option.show ? (option.show as (value: unknown) => unknown)(initial) : initial;
  return ` (default: ${String(shown)}${'unit' in option && option.unit ? ` ${option.unit}` : ''})`;
}

const commanderOptions = OPTIONS.map((option) => {
  const spec = new Option('value' in option ? `${option.flag} ${option.value}` : option.flag, `${option.help}${defaultText(option)}`);
  spec.helpGroup(`${option.group}:`);
  if ('repeatable' in option && option.repeatable) spec.argParser(collect);
  return { key: option.key as OptionKey, spec };
});

/** Adds --config and every option of the table to a command (run, check). */
export function addRunOptions(command: Command): Command {
  command.addOption(new Option('--config <file>', 'the same keys, camelCase, from a JSON file; flags win key by key').helpGroup('Config:'));
  for (const { spec } of commanderOptions) command.addOption(spec);
  return command;
}

/** The flags given, as Options (those not given left out, so a config file can supply them). */
export function flagOptions(flags: Flags, program: string | undefined, args: readonly string[]): Partial<Options> {
  const options: Record<string, unknown> = program === undefined ? {} : { program, args: [...args] };
  for (const { key, spec } of commanderOptions) {
    const value = flags[spec.attributeName()];
    if (value !== undefined) options[key] = value;
  }
  return options as Partial<Options>;
}
