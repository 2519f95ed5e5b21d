// A `#!` line as the kernel reads it, row by row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseShebang } from '../../src/core/shebang.js';

test('parseShebang: the interpreter, its one argument, and what is no #! line', () => {
  const rows: Array<[string, { interpreter: string; argument: string | null } | null]> = [
    ['#!/bin/sh\necho hi\n', { interpreter: '/bin/sh', argument: null }],
    ['#! /usr/bin/env python3\n', { interpreter: '/usr/bin/env', argument: 'python3' }],
    ['#!/usr/bin/node --max-old-space-size=64 --foo\n', { interpreter: '/usr/bin/node', argument: '--max-old-space-size=64 --foo' }],
    ['#!\t/bin/bash\t \n', { interpreter: '/bin/bash', argument: null }],
    ['#!relative/interp\n', { interpreter: 'relative/interp', argument: null }],
    ['#!/no/newline', { interpreter: '/no/newline', argument: null }],
    ['#!\n', { interpreter: '', argument: null }],
    ['\x7fELF\x02\x01', null],
    ['# !/bin/sh\n', null],
    ['', null],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseShebang(Buffer.from(text, 'latin1')), expected, JSON.stringify(text));
  // a view into a larger buffer reads only its own bytes
  const whole = Buffer.from('xx#!/bin/true\n');
  assert.deepEqual(parseShebang(whole.subarray(2)), { interpreter: '/bin/true', argument: null });
});
