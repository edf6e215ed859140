// How loadWasmeow finds and fetches its assets: progress, a Response or a
// compiled Module in place of a URL, streaming compilation or a console hint,
// load_failed errors that name the URL and the likely cause, and a second
// call with other options. Every page loads wasmeow afresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { launchBrowser, webDir, distDir } from '../test-support/e2e.js';

const FILES = {
  'wasmeow.js': [join(webDir, 'wasmeow.js'), 'text/javascript'],
  'wasmeow.wasm': [join(distDir, 'wasmeow.wasm'), 'application/wasm'],
  'wasm_exec.js': [join(distDir, 'wasm_exec.js'), 'text/javascript'],
};
const wasmSize = readFileSync(FILES['wasmeow.wasm'][0]).length;
let brBody; // wasmeow.wasm brotli-compressed (fast setting), sent without Content-Encoding

// /ok/ serves the files as they should be; the other folders each get one thing wrong.
function handler(cors) {
  return (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const [, dir, name] = /^\/([^/]*)\/?(.*)$/.exec(path);
    const head = { 'cache-control': 'no-store', ...(cors ? { 'access-control-allow-origin': '*' } : {}) };
    if (path === '/blank.html') return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
    if (dir === 'spa') return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end('<!doctype html><div id="app"></div>');
    const f = FILES[basename(name)];
    if (!f || dir === 'nope') return res.writeHead(404, head).end('not found');
    let [file, type] = f;
    if (dir === 'octet' && name === 'wasmeow.wasm') type = 'application/octet-stream';
    if (dir === 'plainexec' && name === 'wasm_exec.js') type = 'text/plain';
    if (dir === 'brnoenc' && name === 'wasmeow.wasm') {
      brBody ??= brotliCompressSync(readFileSync(file), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
      return res.writeHead(200, { ...head, 'content-type': type }).end(brBody);
    }
    const body = readFileSync(file);
    res.writeHead(200, { ...head, 'content-type': type, 'content-length': body.length }).end(body);
  };
}

async function listen(h) {
  const server = createServer(h);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

let main, noCors, withCors, browser, context;

before(async () => {
  main = await listen(handler(false));
  // Other origins: localhost vs 127.0.0.1 differ in origin.
  noCors = await listen(handler(false));
  withCors = await listen(handler(true));
  browser = await launchBrowser();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  for (const s of [main, noCors, withCors]) await s?.close();
});

const other = (s) => s.url.replace('127.0.0.1', 'localhost');

// A fresh page at main's /blank.html that collects its console.
async function freshPage() {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  await page.goto(`${main.url}/blank.html`);
  return { page, logs };
}

// Calls loadWasmeow(options) in the page from /ok/wasmeow.js; options is page-side source.
async function load(page, optionsSrc = '{}') {
  return page.evaluate(async (src) => {
    const { loadWasmeow } = await import('/ok/wasmeow.js');
    try {
      const m = await loadWasmeow(new Function('return ' + src)());
      window.firstModule ??= m;
      return { ok: true, same: m === window.firstModule, version: m.version };
    } catch (e) {
      return { ok: false, code: e.code, message: e.message };
    }
  }, optionsSrc);
}

test('onProgress reports the download; a second call with no or the same options gets the same module, with others invalid_option', async () => {
  const { page, logs } = await freshPage();
  const r = await load(page, '{ onProgress: (p) => (window.progress ??= []).push(p) }');
  assert.ok(r.ok, r.message);
  const progress = await page.evaluate(() => window.progress);
  assert.ok(progress.length > 2, `several progress calls: ${progress.length}`);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded >= progress[i - 1].loaded, 'loaded never goes back');
  assert.deepEqual(progress.at(-1), { loaded: wasmSize, total: wasmSize });
  assert.equal(progress[0].total, wasmSize, 'total is the Content-Length from the start');
  assert.ok(!logs.some((l) => l.includes('not application/wasm')), `no MIME hint when served as application/wasm: ${logs}`);

  assert.equal((await load(page)).same, true, 'no options: the same module');
  assert.equal((await load(page, '{ onProgress: () => {} }')).same, true, 'another progress callback: the same module');
  for (const [src, re] of [
    ["{ wasmURL: '/octet/wasmeow.wasm' }", /already loaded .*wasmURL none.*"\/octet\/wasmeow\.wasm"/],
    ["{ waVersion: '2.3000.1' }", /waVersion/],
    ["{ socketURL: 'ws://127.0.0.1:9/ws/chat' }", /already loaded .*socketURL none/],
    ["{ trustRootKey: new Uint8Array(32) }", /trustRootKey/],
    ["{ wasmExecURL: '/x/wasm_exec.js' }", /wasmExecURL/],
    ['{ bogus: 1 }', /unknown option bogus/],
    ['{ wasmURL: 7 }', /wasmURL must be/],
    ['{ onProgress: 1 }', /onProgress must be a function/],
  ]) {
    const bad = await load(page, src);
    assert.equal(bad.ok, false, src);
    assert.equal(bad.code, 'invalid_option', `${src}: ${bad.message}`);
    assert.match(bad.message, re);
  }
  await page.close();
});

test('socketURL and trustRootKey are page-wide: checked at load, the same again (base64 or bytes) gives the same module, createClient refuses them', async () => {
  const { page } = await freshPage();
  for (const [src, re] of [
    ["{ socketURL: 'http://example.com/ws' }", /socketURL must be a ws:\/\/ or wss:\/\/ URL/],
    ["{ socketURL: 7 }", /socketURL must be/],
    ["{ trustRootKey: 'c2hvcnQ=' }", /trustRootKey must be a 32-byte key/],
    ["{ trustRootKey: new Uint8Array(31) }", /trustRootKey must be a 32-byte key/],
  ]) {
    const bad = await load(page, src);
    assert.equal(bad.ok, false, src);
    assert.equal(bad.code, 'invalid_option', `${src}: ${bad.message}`);
    assert.match(bad.message, re);
  }
  const key = Buffer.alloc(32, 7).toString('base64');
  assert.ok((await load(page, `{ socketURL: 'ws://127.0.0.1:9/ws/chat', trustRootKey: '${key}' }`)).ok);
  assert.equal((await load(page, "{ trustRootKey: new Uint8Array(32).fill(7), socketURL: 'ws://127.0.0.1:9/ws/chat' }")).same, true, 'the same key as bytes');
  const other = await load(page, "{ socketURL: 'ws://127.0.0.1:8/ws/chat' }");
  assert.equal(other.code, 'invalid_option');
  assert.match(other.message, /already loaded .*socketURL "ws:\/\/127\.0\.0\.1:9\/ws\/chat"/);
  const perClient = await page.evaluate(async () => {
    const m = await (await import('/ok/wasmeow.js')).loadWasmeow();
    const out = [];
    for (const o of [{ socketURL: 'ws://127.0.0.1:9/ws/chat' }, { trustRootKey: new Uint8Array(32).fill(7) }]) {
      try { await m.createClient({ auth: { strategy: 'none' }, ...o }); out.push({ ok: true }); } catch (e) { out.push({ code: e.code, message: e.message }); }
    }
    return out;
  });
  for (const [i, name] of ['socketURL', 'trustRootKey'].entries()) {
    assert.equal(perClient[i].code, 'invalid_option', JSON.stringify(perClient[i]));
    assert.match(perClient[i].message, new RegExp(`option ${name} is page-wide: pass it to loadWasmeow`));
  }
  await page.close();
});

test('the same explicit options twice give the same module', async () => {
  const { page } = await freshPage();
  const opts = "{ wasmURL: '/ok/wasmeow.wasm', wasmExecURL: new URL('/ok/wasm_exec.js', location.href) }";
  assert.ok((await load(page, opts)).ok);
  assert.equal((await load(page, opts)).same, true);
  await page.close();
});

test('a wasm served as application/octet-stream loads, with a console hint about the MIME type', async () => {
  const { page, logs } = await freshPage();
  const r = await load(page, "{ wasmURL: '/octet/wasmeow.wasm' }");
  assert.ok(r.ok, r.message);
  assert.ok(logs.some((l) => /octet\/wasmeow\.wasm is served as application\/octet-stream, not application\/wasm/.test(l)), `hint in ${logs}`);
  await page.close();
});

test('a Response (or a promise of one) and a compiled WebAssembly.Module stand in for a URL', async () => {
  const a = await freshPage();
  const r1 = await load(a.page, "{ wasmURL: fetch('/ok/wasmeow.wasm'), onProgress: (p) => { window.last = p; } }");
  assert.ok(r1.ok, r1.message);
  assert.deepEqual(await a.page.evaluate(() => window.last), { loaded: wasmSize, total: wasmSize });
  await a.page.close();
  const b = await freshPage();
  await b.page.evaluate(async () => { window.mod = await WebAssembly.compileStreaming(fetch('/ok/wasmeow.wasm')); });
  const r2 = await load(b.page, '{ wasmURL: window.mod }');
  assert.ok(r2.ok, r2.message);
  assert.match(r2.version, /^\d+\.\d+\.\d+/);
  await b.page.close();
});

test('load_failed names the URL and the likely cause: 404, HTML page, MIME type, CORS, compressed bytes', async () => {
  const { page } = await freshPage();
  const exec = (u) => `{ wasmExecURL: '${u}' }`;
  const cases = [
    // wasm_exec.js first: once it ran, Go is defined and it is not loaded again.
    [exec('/nope/wasm_exec.js'), /\/nope\/wasm_exec\.js: HTTP 404 \(not found/],
    [exec('/spa/wasm_exec.js'), /\/spa\/wasm_exec\.js: got an HTML page \(text\/html\)/],
    [exec('/plainexec/wasm_exec.js'), /\/plainexec\/wasm_exec\.js: it is served as text\/plain.*JavaScript MIME type/],
    [exec(`${other(noCors)}/ok/wasm_exec.js`), /another origin .*Access-Control-Allow-Origin \(CORS\)/],
    ["{ wasmURL: '/nope/wasmeow.wasm' }", /\/nope\/wasmeow\.wasm: HTTP 404 \(not found: deploy wasmeow\.wasm/],
    ["{ wasmURL: '/spa/wasmeow.wasm' }", /\/spa\/wasmeow\.wasm: got an HTML page/],
    [`{ wasmURL: '${other(noCors)}/ok/wasmeow.wasm' }`, /localhost:\d+\/ok\/wasmeow\.wasm failed .*another origin .*Access-Control-Allow-Origin \(CORS\)/],
    ["{ wasmURL: '/brnoenc/wasmeow.wasm' }", /compiling wasmeow\.wasm from .*\/brnoenc\/wasmeow\.wasm: .*Content-Encoding: br/],
    ["{ wasmURL: new Response('<!doctype html><p>hi', { headers: { 'content-type': 'application/octet-stream' } }) }", /the Response given as wasmURL: got an HTML page/],
  ];
  for (const [src, re] of cases) {
    const r = await load(page, src);
    assert.equal(r.ok, false, src);
    assert.equal(r.code, 'load_failed', `${src}: ${r.message}`);
    assert.match(r.message, re, src);
  }
  // From another origin that allows this one, it loads.
  const ok = await load(page, `{ wasmURL: '${other(withCors)}/ok/wasmeow.wasm' }`);
  assert.ok(ok.ok, ok.message);
  await page.close();
});

test('mediaProxyURL is page-wide: an http(s) URL or false, checked at load; createClient refuses it', async () => {
  const { page } = await freshPage();
  for (const src of ["{ mediaProxyURL: 'ftp://x/media/' }", '{ mediaProxyURL: true }', "{ mediaProxyURL: 'https://x/media/?q=1' }", '{ mediaProxyURL: 7 }']) {
    const bad = await load(page, src);
    assert.equal(bad.ok, false, src);
    assert.equal(bad.code, 'invalid_option', `${src}: ${bad.message}`);
    assert.match(bad.message, /mediaProxyURL must be an http:\/\/ or https:\/\/ URL/);
  }
  assert.ok((await load(page, "{ mediaProxyURL: 'http://127.0.0.1:9/media/' }")).ok);
  assert.equal((await load(page, "{ mediaProxyURL: 'http://127.0.0.1:9/media/' }")).same, true);
  const other = await load(page, '{ mediaProxyURL: false }');
  assert.equal(other.code, 'invalid_option');
  assert.match(other.message, /already loaded .*mediaProxyURL "http:\/\/127\.0\.0\.1:9\/media\/"/);
  const perClient = await page.evaluate(async () => {
    const m = await (await import('/ok/wasmeow.js')).loadWasmeow();
    try { await m.createClient({ auth: { strategy: 'none' }, mediaProxyURL: 'http://x/media/' }); return { ok: true }; } catch (e) { return { code: e.code, message: e.message }; }
  });
  assert.equal(perClient.code, 'invalid_option', JSON.stringify(perClient));
  assert.match(perClient.message, /option mediaProxyURL is page-wide: pass it to loadWasmeow/);
  await page.close();
});
