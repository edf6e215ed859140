// One schema for events and error codes: the Go side (every emit site and
// every error code constant), wasmeow.js (its list of events it accepts
// listeners for, the codes it raises itself), the test page's list and
// wasmeow.d.ts must name the same events and codes. Adding an event or a
// code in one place only fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { webDir, repoDir } from '../test-support/e2e.js';

const read = (...p) => readFileSync(join(...p), 'utf8');
const goFiles = (dir) => readdirSync(join(repoDir, dir)).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go')).map((f) => read(repoDir, dir, f));
const sorted = (xs) => [...new Set(xs)].sort();
const matches = (text, re) => [...text.matchAll(re)].map((m) => m[1]);

const dts = read(webDir, 'wasmeow.d.ts');
const js = read(webDir, 'wasmeow.js');
const page = read(webDir, 'test', 'page.html');

function listIn(text, name) {
  const m = new RegExp(`const ${name} = \\[([^\\]]*)\\]`).exec(text);
  assert.ok(m, `no ${name} list`);
  return matches(m[1], /'([^']+)'/g);
}

function blockOf(text, start) {
  const i = text.indexOf(start);
  assert.ok(i >= 0, `no ${start}`);
  let depth = 0;
  for (let j = text.indexOf('{', i); j < text.length; j++) {
    if (text[j] === '{') depth++;
    if (text[j] === '}' && --depth === 0) return text.slice(text.indexOf('{', i) + 1, j);
  }
  throw new Error(`unclosed ${start}`);
}

test('every event the Go side emits is typed, listenable and recorded by the test page, and no other', () => {
  const goEvents = sorted(goFiles('wasm').flatMap((src) => matches(src, /emit\("([a-z_.]+)"/g)));
  // Top-level keys of `interface Events { ... }` (a nested object's keys are deeper).
  const body = blockOf(dts, 'export interface Events');
  let depth = 0;
  const typed = [];
  for (const line of body.split('\n')) {
    const key = depth === 0 && /^\s*'?([a-z_.]+)'?\s*:/.exec(line);
    if (key) typed.push(key[1]);
    depth += (line.match(/\{/g) || []).length - (line.match(/\}/g) || []).length;
  }
  assert.deepEqual(sorted(typed), goEvents, 'wasmeow.d.ts Events vs the Go emit sites');
  assert.deepEqual(sorted(listIn(js, 'EVENTS')), goEvents, 'wasmeow.js EVENTS vs the Go emit sites');
  assert.deepEqual(sorted(listIn(page, 'EVENTS')), goEvents, 'test/page.html EVENTS vs the Go emit sites');
});

test('every error code the Go side or wasmeow.js can raise is in wasmeow.d.ts ErrorCode, and each listed code exists', () => {
  const go = [...goFiles('wasm'), ...goFiles('jsbridge')];
  const goCodes = go.flatMap((src) => [
    ...matches(src, /\b[Cc]ode[A-Za-z]*\s*=\s*"([a-z_]+)"/g),
    ...matches(src, /WithCode\("([a-z_]+)"/g),
    ...matches(src, /Errorf\("([a-z_]+)"/g),
  ]);
  const jsCodes = matches(js, /new WasmeowError\([^;]*?'([a-z_]+)'\)/g).concat(matches(js, /\|\| '([a-z_]+)'/g));
  const raised = sorted([...goCodes, ...jsCodes]);
  const m = /export type ErrorCode =([^;]*);/.exec(dts);
  assert.ok(m, 'no ErrorCode type');
  const typed = sorted(matches(m[1], /'([a-z_]+)'/g));
  assert.deepEqual(raised.filter((c) => !typed.includes(c)), [], 'codes raised but missing from ErrorCode');
  assert.deepEqual(typed.filter((c) => !raised.includes(c)), [], 'codes in ErrorCode that nothing raises');
});
