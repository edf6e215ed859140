// A user's app: a fresh folder outside the repo installs the packed tarball
// (`npm install wasmeow-<version>.tgz`, offline) and loads wasmeow unbundled
// (a module page, a module Worker) and through Vite (build and dev server),
// webpack 5 and esbuild (ESM with the two assets copied beside the bundle;
// IIFE with explicit URLs). Each page pairs with fakewa and exchanges a text.
// The bundlers are web/'s devDependencies, driven through their JS APIs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build as viteBuild, createServer as viteServer } from 'vite';
import webpack from 'webpack';
import * as esbuild from 'esbuild';
import { startFakewa, launchBrowser } from '../test-support/e2e.js';
import { packedTarball, freshApp, startAssetServer } from '../test-support/package.js';

const PEER = '15550009000';
let app, fakewa, server, browser, query, nextPhone = 15550009001;

// The app's entry, the same for every bundler and for the plain module page.
const MAIN = `import { loadWasmeow } from 'wasmeow';

const q = new URLSearchParams(location.search);
window.events = [];
(async () => {
  try {
    // An IIFE bundle has no import.meta.url: it passes the asset URLs.
    const server = { socketURL: q.get('ws'), trustRootKey: q.get('root') };
    const options = q.get('wasmURL') ? { wasmURL: q.get('wasmURL'), wasmExecURL: q.get('wasmExecURL'), ...server } : server;
    const wm = await loadWasmeow(options);
    const client = await wm.createClient({ auth: { strategy: 'none' }, logLevel: 'error' });
    for (const name of ['qr', 'ready', 'message', 'auth_failure', 'error']) {
      client.on(name, (p) => window.events.push({ name, payload: p instanceof Error ? { message: p.message } : p }));
    }
    window.client = client;
    window.appReady = true;
    client.connect().catch((e) => window.events.push({ name: 'connect_error', payload: { message: e.message } }));
  } catch (e) {
    window.appError = String((e && e.stack) || e);
  }
})();
`;

// The Worker runs the same client; the page relays its events and sends through it.
const WORKER = `import { loadWasmeow } from './node_modules/wasmeow/wasmeow.js';

const q = new URLSearchParams(location.search);
let client;
onmessage = async ({ data }) => {
  try { postMessage({ reply: data.id, value: await client.sendText(...data.send) }); } catch (e) { postMessage({ reply: data.id, error: e.message }); }
};
try {
  const wm = await loadWasmeow({ socketURL: q.get('ws'), trustRootKey: q.get('root') });
  client = await wm.createClient({ auth: { strategy: 'none' }, logLevel: 'error' });
  for (const name of ['qr', 'ready', 'message', 'auth_failure', 'error']) {
    client.on(name, (p) => postMessage({ event: { name, payload: p instanceof Error ? { message: p.message } : p } }));
  }
  postMessage({ ready: true });
  await client.connect();
} catch (e) {
  postMessage({ error: String((e && e.stack) || e) });
}
`;

const WORKER_PAGE = `<!doctype html><meta charset="utf-8"><title>wasmeow in a module worker</title>
<script type="module">
window.events = [];
const w = new Worker('./worker.js' + location.search, { type: 'module' });
const waiting = new Map();
let n = 0;
w.onmessage = ({ data }) => {
  if (data.ready) window.appReady = true;
  else if (data.error && data.reply === undefined) window.appError = data.error;
  else if (data.event) window.events.push(data.event);
  else { const p = waiting.get(data.reply); waiting.delete(data.reply); data.error ? p.reject(new Error(data.error)) : p.resolve(data.value); }
};
window.client = { sendText: (to, text) => new Promise((resolve, reject) => { const id = ++n; waiting.set(id, { resolve, reject }); w.postMessage({ id, send: [to, text] }); }) };
</script>`;

const html = (script) => `<!doctype html><meta charset="utf-8"><title>wasmeow consumer</title>\n${script}\n`;

before(async () => {
  const tarball = packedTarball();
  app = freshApp(tarball);
  mkdirSync(join(app.dir, 'src'));
  writeFileSync(join(app.dir, 'src/main.js'), MAIN);
  writeFileSync(join(app.dir, 'index.html'), html('<script type="module" src="/src/main.js"></script>'));
  writeFileSync(join(app.dir, 'plain.html'), html('<script type="importmap">{"imports": {"wasmeow": "./node_modules/wasmeow/wasmeow.js"}}</script>\n<script type="module" src="./src/main.js"></script>'));
  writeFileSync(join(app.dir, 'worker.js'), WORKER);
  writeFileSync(join(app.dir, 'worker.html'), WORKER_PAGE);
  [fakewa, server] = await Promise.all([startFakewa(), startAssetServer(app.root)]);
  browser = await launchBrowser();
  await fakewa.api('POST', '/api/accounts', { phone: PEER, pushName: 'Peer' });
  query = `ws=${encodeURIComponent(fakewa.wsURL)}&root=${encodeURIComponent(fakewa.rootKey)}`;
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
  app?.close();
});

// Opens url in a fresh context, pairs it with a new account's phone, and exchanges a text each way.
async function pairAndExchange(url, { pair = true } = {}) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await page.waitForFunction(() => window.appReady || window.appError, null, { timeout: 60000 });
    const err = await page.evaluate(() => window.appError);
    assert.equal(err, undefined, `the app failed to load wasmeow: ${err}\n${errors.join('\n')}`);
    const qr = await (await page.waitForFunction(() => window.events.find((e) => e.name === 'qr')?.payload, null, { timeout: 30000 })).jsonValue();
    if (!pair) return;
    const phone = String(nextPhone++);
    await fakewa.api('POST', '/api/accounts', { phone, pushName: 'User' });
    await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.code });
    await page.waitForFunction(() => window.events.some((e) => e.name === 'ready'), null, { timeout: 30000 });
    const text = `hello ${phone}`;
    const { id } = await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text });
    const got = await (await page.waitForFunction((t) => window.events.find((e) => e.name === 'message' && e.payload.text === t)?.payload, text, { timeout: 30000 })).jsonValue();
    assert.equal(got.id, id);
    const reply = `hi peer, from ${phone}`;
    const sent = await page.evaluate(([to, t]) => window.client.sendText(to, t), [`${PEER}@s.whatsapp.net`, reply]);
    assert.equal((await fakewa.waitInbox(PEER, (m) => m.text === reply)).id, sent);
  } finally {
    await context.close();
  }
}

test('a plain module page (import map to node_modules/wasmeow) pairs and texts', async () => {
  await pairAndExchange(`${server.url}/app/plain.html?${query}`);
});

test('a module Worker pairs and texts', async () => {
  await pairAndExchange(`${server.url}/app/worker.html?${query}`);
});

test('Vite build: emits the wasm and wasm_exec.js as assets; the page pairs and texts', async () => {
  const outDir = join(app.root, 'out/vite');
  // base './' only so that the output works under /out/vite/ here.
  await viteBuild({ root: app.dir, base: './', configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  await pairAndExchange(`${server.url}/out/vite/index.html?${query}`);
});

test('Vite dev server, with wasmeow pre-bundled as Vite does by default: the page pairs and texts', async () => {
  const dev = await viteServer({
    root: app.dir, configFile: false, logLevel: 'warn', clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    optimizeDeps: { entries: ['index.html'] }, // not the build outputs beside the app
  });
  await dev.listen();
  try {
    await pairAndExchange(`${dev.resolvedUrls.local[0]}?${query}`);
  } finally {
    await dev.close();
  }
});

test('webpack 5: emits the wasm and wasm_exec.js as assets; the page pairs and texts', async () => {
  const outDir = join(app.root, 'out/webpack');
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production', context: app.dir, entry: './src/main.js',
    output: { path: outDir, filename: 'main.js', clean: true },
    performance: { hints: false }, // the wasm is 26 MB
  }, (e, s) => (e ? reject(e) : resolve(s))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  const assets = Object.keys(stats.compilation.assets);
  assert.ok(assets.some((a) => a.endsWith('.wasm')), `a .wasm asset: ${assets}`);
  writeFileSync(join(outDir, 'index.html'), html('<script src="main.js"></script>'));
  await pairAndExchange(`${server.url}/out/webpack/index.html?${query}`);
});

test('esbuild: ESM with the two assets copied beside the bundle pairs and texts; an IIFE with explicit URLs loads', async () => {
  const pkg = join(app.dir, 'node_modules/wasmeow');
  const esm = join(app.root, 'out/esbuild');
  await esbuild.build({ entryPoints: [join(app.dir, 'src/main.js')], bundle: true, format: 'esm', outdir: esm, logLevel: 'error' });
  for (const f of ['wasmeow.wasm', 'wasm_exec.js']) copyFileSync(join(pkg, f), join(esm, f));
  writeFileSync(join(esm, 'index.html'), html('<script type="module" src="main.js"></script>'));
  await pairAndExchange(`${server.url}/out/esbuild/index.html?${query}`);

  const iife = join(app.root, 'out/esbuild-iife');
  await esbuild.build({ entryPoints: [join(app.dir, 'src/main.js')], bundle: true, format: 'iife', outdir: iife, logLevel: 'silent' });
  writeFileSync(join(iife, 'index.html'), html('<script src="main.js"></script>'));
  const urls = `wasmURL=${encodeURIComponent('/app/node_modules/wasmeow/wasmeow.wasm')}&wasmExecURL=${encodeURIComponent('/app/node_modules/wasmeow/wasm_exec.js')}`;
  await pairAndExchange(`${server.url}/out/esbuild-iife/index.html?${query}&${urls}`, { pair: false });
});
