// --listen and --metrics addresses (core/addresses.ts), row by row: which family each binds, and which two
// name the same socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen, parseMetrics, sameSocket } from '../../src/core/addresses.js';

test('an address: no host, or *, is both families ([::] taking IPv4); a host given is its own family alone', () => {
  const rows: Array<[string, { family: 4 | 6; address: string; port: number; dualStack: boolean }]> = [
    ['8080', { family: 6, address: '::', port: 8080, dualStack: true }],
    ['*:8080', { family: 6, address: '::', port: 8080, dualStack: true }],
    [':8080', { family: 6, address: '::', port: 8080, dualStack: true }],
    ['0.0.0.0:8080', { family: 4, address: '0.0.0.0', port: 8080, dualStack: false }],
    ['[::]:8080', { family: 6, address: '::', port: 8080, dualStack: false }],
    ['localhost:80', { family: 4, address: '127.0.0.1', port: 80, dualStack: false }],
    ['web=[::1]:0', { family: 6, address: '::1', port: 0, dualStack: false }],
  ];
  for (const [text, expected] of rows) {
    const spec = parseListen(text, 0);
    assert.equal(spec.kind, 'inet', text);
    if (spec.kind === 'inet') assert.deepEqual({ family: spec.family, address: spec.address, port: spec.port, dualStack: spec.dualStack }, expected, text);
  }
  assert.equal(parseListen('web=8080', 0).name, 'web');
  assert.equal(parseListen('8080', 2).name, 'listen2');
  for (const bad of ['', 'x', '8080x', '65536', 'example.com:80', '[::1]', 'unix:']) assert.throws(() => parseListen(bad, 0), /--listen/, bad);
});

test('--metrics: a bare port is 127.0.0.1\'s; with an empty host, both families', () => {
  const local = parseMetrics('9100');
  assert.ok(local.kind === 'inet' && local.address === '127.0.0.1' && !local.dualStack);
  const both = parseMetrics(':9100');
  assert.ok(both.kind === 'inet' && both.dualStack);
  assert.throws(() => parseMetrics('web=9100'), /no name=/);
});

test('the same socket: a port of both families holds every address of that port', () => {
  const rows: Array<[string, string, boolean]> = [
    ['8080', '127.0.0.1:8080', true],
    ['8080', '[::1]:8080', true],
    ['*:8080', '8080', true],
    ['8080', '127.0.0.1:8081', false],
    ['0.0.0.0:8080', '127.0.0.1:8080', true],
    ['0.0.0.0:8080', '[::1]:8080', false],
    ['[::]:8080', '[::1]:8080', true],
    ['127.0.0.1:8080', '127.0.0.2:8080', false],
    ['0', '0', false],
    ['unix:/run/a.sock', 'unix:/run/a.sock', true],
    ['unix:/run/a.sock', '8080', false],
  ];
  for (const [a, b, same] of rows) {
    assert.equal(sameSocket(parseListen(a, 0), parseListen(b, 0)), same, `${a} ${b}`);
    assert.equal(sameSocket(parseListen(b, 0), parseListen(a, 0)), same, `${b} ${a}`);
  }
});
