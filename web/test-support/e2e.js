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
import { controlAPI } from '../testing/index.js';

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
  // -media-cors: the test pages reach fakewa's media hosts directly (its
  // /media/<host>/ path, the default mediaProxyURL for its socketURL), which a
  // page on another origin can only read with CORS. Tests of the world
  // without CORS turn it off (POST /api/settings {mediaCORS: false}).
  const proc = spawn(fakewaBin, ['-addr', '127.0.0.1:0', '-media-cors'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logs = [];
  const stdout = []; // its log lines (waLog.Stdout), kept apart from logs (stderr)
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const info = await new Promise((resolveInfo, reject) => {
    const t = setTimeout(() => reject(new Error(`fakewa did not start: ${out}${logs.join('')}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      stdout.push(String(d));
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
  const api = controlAPI(info.baseURL);
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
    ...info, api, logs, stdout, waitInbox,
    close: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.on('exit', r); proc.kill('SIGTERM'); }),
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/**
 * A persistent profile: IndexedDB on disk, surviving reloads and new pages.
 * Pass the dir of a killed profile to start the browser again on its data;
 * options go to Playwright's launchPersistentContext (e.g. ignoreHTTPSErrors).
 */
export async function launchPersistent(dir = mkdtempSync(join(tmpdir(), 'wasmeow-profile-')), options = {}) {
  const ctx = await chromium.launchPersistentContext(dir, { executablePath, args: CHROMIUM_ARGS, ...options });
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
 * loadWasmeow's page-wide options for a page whose clients talk to fakewa
 * (its socket and root key), with extra ones (e.g. { waVersion }).
 */
export const pageOptions = (fakewa, extra = {}) => ({ socketURL: fakewa.wsURL, trustRootKey: fakewa.rootKey, ...extra });

/**
 * Opens the test page, which loads wasmeow and records every event of
 * every client it creates in window.events (see page.html). search is the
 * page's query string, e.g. '?waVersion=2.3000.1031080782', or loadWasmeow's
 * options as an object (waVersion, socketURL, trustRootKey; see pageOptions).
 */
export async function openPage(context, base, search = '') {
  if (typeof search === 'object') {
    search = '?' + new URLSearchParams(Object.entries(search).filter(([, v]) => v !== undefined)).toString();
  }
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => { if (process.env.WASMEOW_CONSOLE || m.type() === 'error') console.error(`[page ${m.type()}]`, m.text()); });
  await page.goto(base + '/test/page.html' + search);
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

let relayBin = null;

/**
 * Builds cmd/relay once per test process and starts it on a free port with
 * args (e.g. ['-upstream', fakewa.wsURL, '-wa-version', '2.3000.1']).
 * Resolves with its socket URL and version URL.
 */
export async function startRelay(args) {
  if (!relayBin) {
    const dir = mkdtempSync(join(tmpdir(), 'wasmeow-relay-'));
    relayBin = join(dir, 'relay');
    execFileSync('go', ['build', '-o', relayBin, './cmd/relay'], { cwd: repoDir, stdio: 'inherit' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const proc = spawn(relayBin, ['-addr', '127.0.0.1:0', '-log', 'WARN', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logs = [];
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const info = await new Promise((resolveInfo, reject) => {
    const t = setTimeout(() => reject(new Error(`relay did not start: ${out}${logs.join('')}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const ws = /relay socket URL:\s+(\S+)/.exec(out);
      const version = /version URL:\s+(\S+)/.exec(out);
      if (ws && version) {
        clearTimeout(t);
        resolveInfo({ socketURL: ws[1], versionURL: version[1] });
      }
    });
    proc.on('exit', (code) => reject(new Error(`relay exited with ${code}: ${out}${logs.join('')}`)));
  });
  return {
    ...info, logs,
    close: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.on('exit', r); proc.kill('SIGTERM'); }),
  };
}

/** Resolves with the payload of the first `message` event of client past `from` that pred accepts. */
export async function waitMessage(page, client, pred, { from = 0, timeout = 20000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const msgs = await page.evaluate(([c, f]) => (window.events[c] || []).slice(f).filter((e) => e.name === 'message').map((e) => e.payload), [client, from]);
    const m = msgs.find(pred);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no matching message event for ${client}; got ${JSON.stringify(msgs)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- fault suites (web/test/faults-*.test.js) ----------------------------

/** The seed of a fault suite: WASMEOW_FAULT_SEED, else a random one (print it). */
export const faultSeed = () => Number(process.env.WASMEOW_FAULT_SEED || Math.floor(Math.random() * 2 ** 31));

/** Seeded randomness (mulberry32): next() in [0, 1), int(lo, hi) inclusive, pick(array). */
export function seededRandom(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { seed, next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (a) => a[Math.floor(next() * a.length)] };
}

/** Pairs client `name` of the page by QR with `phone`'s simulated phone; resolves with its JID. */
export async function pairByQR(fakewa, page, name, phone) {
  const from = await eventCount(page, name);
  await page.evaluate((n) => window.clients[n].connect(), name);
  const qr = await waitEvent(page, name, 'qr', { from });
  await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
  await waitEvent(page, name, 'ready', { from });
  return page.evaluate((n) => window.clients[n].getCreds().me, name);
}

/** fakewa's log lines that say a message needed a retry receipt or failed to decrypt. */
// fakewa logs on stdout (its stderr is empty but for crashes): read both.
export const decryptFailures = (fakewa) => [...fakewa.logs, ...fakewa.stdout].join('').split('\n').filter((l) => /retry receipt|failed to decrypt|decrypt/i.test(l));

/**
 * Waits until fakewa holds no unacknowledged stanza for any of the device
 * JIDs; resolves with {} then, or with the queued counts left at the timeout.
 */
export async function waitQueuesEmpty(fakewa, jids, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const accounts = await fakewa.api('GET', '/api/accounts');
    const stuck = {};
    for (const d of accounts.flatMap((a) => a.devices || [])) if (jids.includes(d.jid) && d.queued > 0) stuck[d.jid] = d.queued;
    if (Object.keys(stuck).length === 0 || Date.now() > end) return stuck;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The ids of the messages fakewa still holds for phone's devices, not yet
 * acknowledged. A kill of the browser can drop a page's last reports to the
 * test (async bindings) after the page was shown, and acknowledged, the
 * message; what the server no longer holds was acknowledged, and wasmeow
 * acknowledges a message only once its event was emitted and its state stored.
 */
export async function unackedMessageIDs(fakewa, phone) {
  const acct = (await fakewa.api('GET', '/api/accounts')).find((a) => a.phone === phone);
  return new Set((acct?.devices || []).flatMap((d) => d.queuedMessages || []));
}

/**
 * What the pages of a fault suite were shown, kept in node as it happens so
 * that it survives a kill of the browser: per client the messages by id
 * (with how often each was shown), the texts whose sendText resolved, the
 * error events; and every console error or page error of the pages.
 */
export function faultRecord() {
  const rec = {
    shown: new Map(), // client -> Map(id -> {text, times})
    sent: new Map(), // client -> Map(id -> text), sendText calls that resolved
    errors: [], // {client, code, message}
    trail: new Map(), // client -> the names of every event it was given, across pages
    console: [], // console errors and uncaught page errors
    /** Makes page report to this record (call once per page, before track). */
    async attach(page) {
      page.on('console', (m) => { if (m.type() === 'error') rec.console.push(m.text()); });
      page.on('pageerror', (e) => rec.console.push(`pageerror: ${e.message}`));
      await page.exposeFunction('faultReport', (client, kind, p) => {
        if (kind === 'message') {
          const m = rec.shown.get(client) || new Map();
          rec.shown.set(client, m);
          const seen = m.get(p.id);
          if (seen) {
            seen.times++;
            if (p.redelivered !== true) seen.unmarked++; // a repeat the page was not told of
          } else m.set(p.id, { text: p.text, times: 1, unmarked: 0 });
        } else if (kind === 'sent') {
          if (!rec.sent.has(client)) rec.sent.set(client, new Map());
          rec.sent.get(client).set(p.id, p.text);
        } else if (kind === 'error') rec.errors.push({ client, ...p });
        if (!rec.trail.has(client)) rec.trail.set(client, []);
        rec.trail.get(client).push(kind + (p?.reason ? `:${p.reason}` : '') + (p?.code ? `:${p.code}` : ''));
      });
      await page.evaluate(() => {
        // sendText that reports a resolution at once; never rejects (gives {code, message}).
        window.faultSend = (n, to, text) => window.clients[n].sendText(to, text).then(
          (id) => { window.faultReport(n, 'sent', { id, text }); return { id }; },
          (e) => ({ code: e.code, message: e.message }));
      });
    },
    /** Reports client `name` of page (made by window.create) to this record. */
    track: (page, name) => page.evaluate((n) => {
      const c = window.clients[n];
      c.on('message', (m) => window.faultReport(n, 'message', { id: m.id, text: m.text, redelivered: m.redelivered }));
      c.on('error', (e) => window.faultReport(n, 'error', { code: e.code, message: e.message }));
      for (const ev of ['qr', 'authenticated', 'auth_failure', 'ready', 'disconnected', 'reconnecting', 'logged_out']) {
        c.on(ev, (p) => window.faultReport(n, ev, { reason: p?.reason }));
      }
    }, name),
    /** The texts client was shown, once each. */
    texts: (client) => new Set([...(rec.shown.get(client) || new Map()).values()].map((m) => m.text)),
    /** How many message ids client was shown more than once. */
    repeats: (client) => [...(rec.shown.get(client) || new Map()).values()].filter((m) => m.times > 1).length,
    /** The texts client was shown again without redelivered: true. */
    unmarkedRepeats: (client) => [...(rec.shown.get(client) || new Map()).values()].filter((m) => m.unmarked > 0).map((m) => m.text),
    /** Waits until client was shown every text of want. */
    async waitShown(client, want, timeout = 30000) {
      const end = Date.now() + timeout;
      for (;;) {
        const got = rec.texts(client);
        const missing = want.filter((t) => !got.has(t));
        if (missing.length === 0) return;
        if (Date.now() > end) throw new Error(`never shown to ${client}: ${missing.join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return rec;
}
