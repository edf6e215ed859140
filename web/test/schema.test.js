// One schema for events and error codes: the Go side (the client core's
// event structs, every place one is built, and every error code constant),
// wasmeow.js (its list of events it accepts
// listeners for, the codes it raises itself), the test page's list and
// wasmeow.d.ts must name the same events and codes, and the d.ts unions of
// the events' reasons the reasons Go gives. Adding an event, a code or a
// reason in one place only fails here.
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

// The client core's events: each struct names its event with an EventName
// method ({ GoType: 'event' }).
const eventTypes = (sources) => Object.fromEntries(sources.flatMap((src) => [...src.matchAll(/^func \((\w+)\) EventName\(\) string\s*\{\s*return "([a-z_.]+)"\s*\}/gm)].map((m) => [m[1], m[2]])));

test('every event the Go side emits is typed, listenable and recorded by the test page, and no other', () => {
  const types = eventTypes(goFiles('core'));
  const goEvents = sorted(Object.values(types));
  // Each event is built somewhere: a type nothing builds is a stale event.
  for (const [type, event] of Object.entries(types)) {
    assert.ok(goFiles('core').some((src) => new RegExp(`(?<![.\\w])${type}\\{[^}]`).test(src)), `the ${event} event (${type}) is never built`);
  }
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
  const go = [...goFiles('core'), ...goFiles('wasm'), ...goFiles('jsbridge')];
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

// ---- reasons ---------------------------------------------------------------
// Every `reason` a Go emit site can give must be in the d.ts union of that
// event's reason, and every member of the union must be given somewhere. A
// reason is resolved from the emit site: a literal, a constant, a literal
// plus anything (a `prefix${string}` member), or a variable: assignments to it
// in the function, or, for a parameter, the arguments of every call of the
// function. What cannot be resolved fails the test: make it one of those.

// splitTop splits text at sep outside brackets and Go string literals.
function splitTop(text, sep) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === '`') {
      for (i++; i < text.length && text[i] !== ch; i++) if (ch === '"' && text[i] === '\\') i++;
    } else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === sep && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

// callArgs returns the arguments of the call whose '(' is at open (or the
// fields of the composite literal whose '{' is there).
function callArgs(src, open) {
  const [opener, closer] = src[open] === '{' ? ['{', '}'] : ['(', ')'];
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const ch = src[i];
    if (ch === '"' || ch === '`') {
      for (i++; i < src.length && src[i] !== ch; i++) if (ch === '"' && src[i] === '\\') i++;
    } else if (ch === opener) depth++;
    else if (ch === closer && --depth === 0) return splitTop(src.slice(open + 1, i), ',');
  }
  throw new Error('unclosed call');
}

// The top-level func around position at (gofmt: `func` and `}` at column 0).
function funcAt(src, at) {
  const start = src.lastIndexOf('\nfunc ', at) + 1;
  const end = src.indexOf('\n}\n', at);
  const sig = /^func (?:\([^)]*\) )?(\w+)\(/.exec(src.slice(start));
  assert.ok(start > 0 && end > 0 && sig, `no func around offset ${at}`);
  // `a, b string` lists a and b: each name is the first word of its part.
  const params = callArgs(src, start + sig[0].length - 1).map((p) => p.split(/\s+/)[0]);
  return { name: sig[1], params, body: src.slice(start, end) };
}

// reasonsInGo maps each event to the reasons the places that build its
// struct give (the Reason field of each literal): { event: Set of 'literal'
// or 'prefix${string}' }.
function reasonsInGo(sources) {
  const consts = new Map();
  const constRe = /^\s*(\w+)\s*(?:\w+\s*)?=\s*"([^"]*)"/gm;
  for (const src of sources) {
    for (const block of src.matchAll(/^const \(([\s\S]*?)^\)/gm)) for (const m of block[1].matchAll(constRe)) consts.set(m[1], m[2]);
    for (const m of src.matchAll(/^const (\w+)\s*(?:\w+\s*)?=\s*"([^"]*)"/gm)) consts.set(m[1], m[2]);
  }
  const resolve = (expr, src, at, seen) => {
    let m;
    if ((m = /^"([^"]*)"$/.exec(expr))) return [m[1]];
    if ((m = /^"([^"]*)"\s*\+/.exec(expr))) return [`${m[1]}\${string}`];
    if (!/^\w+$/.test(expr)) throw new Error(`cannot resolve the reason ${expr}: use a literal, a constant or a variable`);
    if (consts.has(expr)) return [consts.get(expr)];
    const fn = funcAt(src, at);
    const key = `${fn.name}.${expr}`;
    if (seen.has(key)) return [];
    seen.add(key);
    const out = [];
    const i = fn.params.indexOf(expr);
    if (i >= 0) {
      for (const other of sources) {
        for (const call of other.matchAll(new RegExp(`[.\\s(]${fn.name}\\(`, 'g'))) {
          const open = call.index + call[0].length - 1;
          if (other.slice(other.lastIndexOf('\n', open) + 1, open).startsWith('func ')) continue; // its declaration
          out.push(...resolve(callArgs(other, open)[i], other, open, seen));
        }
      }
    } else {
      const local = fn.body;
      const base = src.indexOf(local);
      for (const a of local.matchAll(new RegExp(`\\b${expr}\\s*:?=(?!=)\\s*([^\\n]+)`, 'g'))) {
        out.push(...resolve(a[1].trim(), src, base + a.index, seen));
      }
    }
    if (out.length === 0) throw new Error(`cannot resolve the reason ${expr} in ${fn.name}: no assignment or call gives it`);
    return out;
  };
  const byEvent = {};
  const types = eventTypes(sources);
  for (const src of sources) {
    for (const m of src.matchAll(/(?<![.\w])(\w+)\{/g)) {
      const event = types[m[1]];
      if (!event) continue;
      const fields = callArgs(src, m.index + m[0].length - 1);
      const reason = fields.map((f) => /^Reason:\s*([\s\S]+)$/.exec(f)).find(Boolean);
      if (!reason) continue;
      (byEvent[event] ??= new Set());
      for (const r of resolve(reason[1].trim(), src, m.index, new Set())) byEvent[event].add(r);
    }
  }
  return byEvent;
}

// reasonsInDts maps each event whose payload has a reason to the members of
// its union (a named type is followed): { event: [members] }.
function reasonsInDts(text) {
  const body = blockOf(text, 'export interface Events');
  const out = {};
  let depth = 0;
  let event = null;
  for (const line of body.split('\n')) {
    const key = depth === 0 && /^\s*'?([a-z_.]+)'?\s*:/.exec(line);
    if (key) event = key[1];
    const reason = /\breason\??:\s*([^;}]+)/.exec(line);
    if (reason && event && depth <= 1) {
      let type = reason[1].trim();
      if (/^\w+$/.test(type)) {
        const named = new RegExp(`export type ${type} =([^;]*);`).exec(text);
        assert.ok(named, `wasmeow.d.ts: no type ${type}`);
        type = named[1];
      }
      const members = splitTop(type.replace(/^\s*\|/, ''), '|');
      out[event] = members.map((t) => {
        const lit = /^'([^']*)'$/.exec(t) || /^`([^`]*)`$/.exec(t);
        assert.ok(lit, `wasmeow.d.ts: the ${event} reason has the member ${t}, not a literal: list the reasons`);
        return lit[1];
      });
    }
    depth += (line.match(/\{/g) || []).length - (line.match(/\}/g) || []).length;
  }
  return out;
}

function reasonGaps(go, typed) {
  const gaps = [];
  for (const event of sorted([...Object.keys(go), ...Object.keys(typed)])) {
    const g = sorted([...(go[event] ?? [])]);
    const t = typed[event] ?? [];
    for (const r of g) if (!t.includes(r)) gaps.push(`${event}: Go emits reason ${r}, missing from wasmeow.d.ts`);
    for (const r of t) if (!g.includes(r)) gaps.push(`${event}: wasmeow.d.ts lists reason ${r}, which Go never emits`);
  }
  return gaps;
}

test('every reason a Go emit site gives is in the d.ts union of that event, and each member is emitted', () => {
  const go = reasonsInGo(goFiles('core'));
  for (const event of ['auth_failure', 'disconnected', 'logged_out']) assert.ok(go[event]?.size > 0, `no reasons found for ${event}`);
  assert.ok(go.logged_out.has('server_logout:${string}'), 'the server_logout:<why> reason (a parameter, through a local) was not followed');
  assert.ok(go.disconnected.has('store_failed'), 'a constant reason was not resolved');
  assert.deepEqual(reasonGaps(go, reasonsInDts(dts)), []);
});

test('the reason check fails on a new, a stale or an unresolvable reason', () => {
  const src = `package core

const reasonX = "x_const"

func (Disconnected) EventName() string { return "disconnected" }
func (AuthFailure) EventName() string  { return "auth_failure" }
func (LoggedOut) EventName() string    { return "logged_out" }

func (c *Client) a(ok bool) {
	why := "assigned"
	if ok {
		why = "prefixed:" + c.name
	}
	c.gone(why)
	c.emit(Disconnected{Reason: "lit", Message: "a (b), c"})
	c.emit(AuthFailure{Message: "m", Reason: reasonX})
}

func (c *Client) gone(why string) {
	c.emit(LoggedOut{Reason: why})
}
`;
  const go = reasonsInGo([src]);
  assert.deepEqual(Object.fromEntries(Object.entries(go).map(([k, v]) => [k, sorted([...v])])),
    { disconnected: ['lit'], auth_failure: ['x_const'], logged_out: ['assigned', 'prefixed:${string}'] });
  assert.deepEqual(reasonGaps(go, { disconnected: ['lit', 'old'], auth_failure: ['x_const'], logged_out: ['assigned'] }), [
    'disconnected: wasmeow.d.ts lists reason old, which Go never emits',
    'logged_out: Go emits reason prefixed:${string}, missing from wasmeow.d.ts',
  ]);
  assert.throws(() => reasonsInGo([src.replace('Reason: "lit"', 'Reason: c.why()')]), /cannot resolve the reason c\.why\(\)/);
  assert.throws(() => reasonsInDts(dts.replace(`reason: DisconnectReason;`, `reason: DisconnectReason | string;`).replace(/export type DisconnectReason =[^;]*;/, '')), /no type|not a literal/);
  assert.throws(() => reasonsInDts(dts.replace(`reason: LoggedOutReason`, `reason: LoggedOutReason | string`)), /no type|not a literal/);
});
