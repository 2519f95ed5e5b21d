// The README as tests read it: its fenced blocks, by the section they are in and their language, and the
// commands its sh blocks give as examples.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './events.js';

export const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

export interface Block {
  /** The `## ` or `### ` heading above it. */
  heading: string;
  language: string;
  code: string;
}

/** Every fenced block, in order. */
export function blocks(): Block[] {
  const found: Block[] = [];
  let heading = '';
  for (const part of README.split(/^(```\w*\n[\s\S]*?^```)$/m)) {
    const fence = /^```(\w*)\n([\s\S]*?)```$/.exec(part);
    if (fence) {
      found.push({ heading, language: fence[1] ?? '', code: fence[2] ?? '' });
      continue;
    }
    const headings = [...part.matchAll(/^#{2,3} (.+)$/gm)];
    heading = headings.at(-1)?.[1] ?? heading;
  }
  return found;
}

/** The one block of a language in a section (the heading as written, without its #s). */
export function block(heading: string, language: string): string {
  const matching = blocks().filter((candidate) => candidate.heading === heading && candidate.language === language);
  assert.equal(matching.length, 1, `one ${language} block under ${heading}`);
  return (matching[0] as Block).code;
}

/** A line of a shell example that runs angel: `angel …`, `bin/angel …`, or one after `&&`. */
const runsAngel = (line: string): boolean => /(^|&& )(bin\/)?angel /.test(line);

/** The commands of the README's sh blocks that run angel, each as written, without its trailing comment. */
export function readmeExamples(): string[] {
  return blocks().filter((candidate) => candidate.language === 'sh')
    .flatMap((candidate) => candidate.code.split('\n'))
    .map((line) => line.replace(/\s{2,}#.*$/, '').trim())
    .filter(runsAngel);
}
