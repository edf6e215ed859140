// Shared set-up of the end-to-end tests: a static server for dist/ + web/,
// the fakewa server double, and chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(webDir, '..');
export const distDir = join(repoDir, 'dist');

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json', '.ts': 'text/plain' };

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Serves the layout a user deploys: wasmeow.js beside wasmeow.wasm and
 * wasm_exec.js. web/ wins over dist/ so tests always load the module under
 * test; /test/ serves the test pages.
 */
export async function startStatic() {
  for (const f of ['wasmeow.wasm', 'wasm_exec.js']) {
    if (!existsSync(join(distDir, f))) throw new Error(`dist/${f} is missing: run make wasm first`);
  }
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    for (const root of [webDir, distDir]) {
      const file = resolve(root, '.' + path);
      if (!file.startsWith(root)) break;
      try {
        if (!(await stat(file)).isFile()) continue;
        res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(await readFile(file));
        return;
      } catch { /* try the next root */ }
    }
    res.writeHead(404).end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

let fakewaBin = null;

/** Builds cmd/fakewa once per test process and starts it on a free port. */
export async function startFakewa() {
  if (!fakewaBin) {
    const dir = mkdtempSync(join(tmpdir(), 'wasmeow-fakewa-'));
    fakewaBin = join(dir, 'fakewa');
    execFileSync('go', ['build', '-o', fakewaBin, './cmd/fakewa'], { cwd: repoDir, stdio: 'inherit' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const proc = spawn(fakewaBin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logs = [];
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const info = await new Promise((resolveInfo, reject) => {
    const t = setTimeout(() => reject(new Error(`fakewa did not start: ${out}${logs.join('')}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const base = /base URL:\s+(\S+)/.exec(out);
      const ws = /websocket URL:\s+(\S+)/.exec(out);
      const root = /root key:\s+(\S+)/.exec(out);
      if (base && ws && root) {
        clearTimeout(t);
        resolveInfo({ baseURL: base[1], wsURL: ws[1], rootKey: root[1] });
      }
    });
    proc.on('exit', (code) => reject(new Error(`fakewa exited with ${code}: ${out}${logs.join('')}`)));
  });
  const api = async (method, path, body) => {
    const res = await fetch(info.baseURL + path, {
      method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { raw: text }; }
    if (!res.ok) {
      const e = new Error(`fakewa ${method} ${path}: HTTP ${res.status}: ${text}`);
      e.status = res.status;
      e.body = json;
      throw e;
    }
    return json;
  };
  // Resolves with the first message in phone's inbox that pred accepts.
  const waitInbox = async (phone, pred, timeout = 20000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const msgs = await api('GET', `/api/accounts/${phone}/messages`);
      const m = (msgs || []).find(pred);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no matching message in ${phone}'s inbox: ${JSON.stringify(msgs)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    ...info, api, logs, waitInbox,
    close: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.on('exit', r); proc.kill('SIGTERM'); }),
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/**
 * A persistent profile: IndexedDB on disk, surviving reloads and new pages.
 * Pass the dir of a killed profile to start the browser again on its data.
 */
export async function launchPersistent(dir = mkdtempSync(join(tmpdir(), 'wasmeow-profile-'))) {
  const ctx = await chromium.launchPersistentContext(dir, { executablePath, args: CHROMIUM_ARGS });
  return {
    ctx, dir,
    close: async () => { await ctx.close(); rmSync(dir, { recursive: true, force: true }); },
    // A crash: SIGKILL every process of this profile, no unload, no flush.
    kill: async () => {
      try { execFileSync('pkill', ['-KILL', '-f', `user-data-dir=${dir}`]); } catch { /* already gone */ }
      await ctx.close().catch(() => {});
    },
  };
}

/**
 * Opens the test page, which loads wasmeow and records every event of
 * every client it creates in window.events (see page.html).
 */
export async function openPage(context, base) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => { if (process.env.WASMEOW_CONSOLE || m.type() === 'error') console.error(`[page ${m.type()}]`, m.text()); });
  await page.goto(base + '/test/page.html');
  await page.waitForFunction(() => window.harnessReady === true || window.harnessError);
  const err = await page.evaluate(() => window.harnessError);
  if (err) throw new Error('harness failed to load wasmeow: ' + err);
  return page;
}

/** Waits until the page has recorded an event named `name` for `client` past index `from`. */
export async function waitEvent(page, client, name, { from = 0, timeout = 30000 } = {}) {
  const h = await page.waitForFunction(([c, n, f]) => {
    const evs = (window.events[c] || []).slice(f);
    return evs.find((e) => e.name === n) || null;
  }, [client, name, from], { timeout });
  return h.jsonValue();
}

export async function events(page, client) {
  return page.evaluate((c) => (window.events[c] || []).map((e) => e.name), client);
}

export async function eventCount(page, client) {
  return page.evaluate((c) => (window.events[c] || []).length, client);
}
