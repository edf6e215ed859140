// End-to-end benchmark (`make bench-e2e`): wasmeow in headless chromium
// (IndexedDB on an on-disk profile, strict commits), unmodified whatsmeow
// natively (cmd/benchnative: sqlstore on sqlite in WAL mode, synchronous=FULL
// and synchronous=OFF) and Baileys 7 in this Node process (its multi-file auth
// state, with and without its key cache), all on one fakewa, the workloads
// interleaved run by run. Prints a markdown table: min / median / max of each
// figure per client and the ratios of the medians.
//
//   node scripts/bench-e2e.mjs [--runs 3] [--backlog 300] [--live 300] [--sends 100]
//        [--clients 10] [--per-client 100] [--workers 2] [--loads 3] [--only wasmeow,native-full,...]
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakewa, launchPersistent, repoDir, webDir, distDir } from '../test-support/e2e.js';
import { startBaileys } from '../test-support/baileys.js';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    backlog: { type: 'string', default: '300' },
    live: { type: 'string', default: '300' },
    sends: { type: 'string', default: '100' },
    clients: { type: 'string', default: '10' },
    'per-client': { type: 'string', default: '100' },
    // The same many clients again, in one page over this many dedicated
    // Workers (each loads the module and runs clients/workers of them); 0: skip.
    workers: { type: 'string', default: '2' },
    loads: { type: 'string', default: '3' },
    // n of the big account: n×5 contacts, n×2 sessions, n×0.3 sender keys,
    // n×20 message secrets and MACs (cmd/benchnative bloat); 0: skip it.
    big: { type: 'string', default: '1000' },
    only: { type: 'string', default: 'wasmeow,native-full,native-off,baileys,baileys-cache' },
    json: { type: 'string', default: '' },
    // A CPU profile of the page (CDP Profiler) during wasmeow's last backlog
    // written to this file (.cpuprofile, opens in Chrome's DevTools), and its
    // heaviest functions printed.
    profile: { type: 'string', default: '' },
    // immutable: max-age a year, immutable (a reload asks nothing, and
    // chromium reuses the compiled code it keeps beside the cached response;
    // what the README says to serve, under a versioned URL); revalidate:
    // no-cache with an ETag (a reload gets a 304, which renews the cache
    // entry's time, and chromium then finds its compiled code stale and
    // compiles again); no-store: nothing cached.
    'wasm-cache': { type: 'string', default: 'immutable' },
  },
});
const N = Object.fromEntries(['runs', 'backlog', 'live', 'sends', 'clients', 'per-client', 'workers', 'loads', 'big'].map((k) => [k, Number(opt[k])]));
const KINDS = opt.only.split(',');
const log = (...a) => console.error('bench-e2e:', ...a);

// ---- the static server: wasmeow as a user should serve it ----------------

// Served as --wasm-cache says (immutable by default: see the option). The
// ETag is computed once per file version, as a static server does (from its
// size and time, not by hashing 28 MB on every request, which added tens of
// milliseconds to each revalidated load).
const CACHE_CONTROL = { revalidate: 'no-cache', immutable: 'public, max-age=31536000, immutable', 'no-store': 'no-store' };
function startStatic() {
  const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  const cacheControl = CACHE_CONTROL[opt['wasm-cache']];
  if (!cacheControl) throw new Error(`--wasm-cache ${opt['wasm-cache']}: one of ${Object.keys(CACHE_CONTROL).join(', ')}`);
  const files = new Map(); // path -> {mtimeMs, size, body, etag}
  const read = (file) => {
    const st = statSync(file);
    let f = files.get(file);
    if (!f || f.mtimeMs !== st.mtimeMs || f.size !== st.size) {
      const body = readFileSync(file);
      f = { mtimeMs: st.mtimeMs, size: st.size, body, etag: '"' + createHash('sha1').update(body).digest('hex') + '"' };
      files.set(file, f);
    }
    return f;
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    for (const root of [webDir, distDir]) {
      const file = resolve(root, '.' + path);
      if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) continue;
      const { body, etag } = read(file);
      if (req.headers['if-none-match'] === etag && cacheControl !== 'no-store') return res.writeHead(304, { etag, 'cache-control': cacheControl }).end();
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': cacheControl, etag });
      return res.end(body);
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((c) => { server.closeAllConnections(); server.close(c); }),
  })));
}

// ---- the clients under test, one adapter each ----------------------------
// Every adapter: setup(pairs) links one client per [name, phone]; connect(name)
// and disconnect(name); mark(name) then waitRecv(name, n) -> {first, last}
// (unix ms of the first and n-th text received since mark); send(name, to, n,
// inflight) -> ms until every send resolved; mem() -> {...bytes}.

let accountSeq = 0;
const newPhone = () => `1555${String(2000000 + accountSeq++).padStart(7, '0')}`;

async function wasmeowAdapter(fakewa, web) {
  const profile = await launchPersistent();
  const q = new URLSearchParams({ socketURL: fakewa.wsURL, trustRootKey: fakewa.rootKey });
  let page;
  const open = async (extra = '') => {
    page?.close().catch(() => {});
    page = await profile.ctx.newPage();
    page.on('pageerror', (e) => log('[page error]', e.message));
    page.on('console', (m) => { if (m.type() === 'error') log('[page]', m.text()); });
    await page.goto(`${web.url}/scripts/bench-e2e.html?${q}${extra}`);
    await page.waitForFunction(() => window.harnessReady || window.harnessError, null, { timeout: 60000 });
    const err = await page.evaluate(() => window.harnessError);
    if (err) throw new Error(err);
  };
  await open();
  const cdp = () => profile.ctx.newCDPSession(page);
  const a = {
    kind: 'wasmeow',
    // worker: the index of the Worker to run the clients in (startWorkers).
    async setup(pairs, worker) {
      for (const [name, phone] of pairs) {
        if (worker === undefined) await page.evaluate((n) => window.benchCreate(n), name);
        else await page.evaluate(([n, i]) => window.benchCreateIn(n, i), [name, worker(name)]);
        await page.evaluate((n) => { window.clients[n].connect(); }, name);
        const code = await (await page.waitForFunction((n) => window.qr[n], name, { timeout: 30000 })).jsonValue();
        const ready = page.evaluate((n) => new Promise((r) => window.clients[n].on('ready', r)), name);
        await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: code });
        await ready;
      }
    },
    connect: (name) => page.evaluate((n) => window.benchConnect(n), name),
    disconnect: (name) => page.evaluate((n) => window.clients[n].disconnect(), name),
    mark: (name) => page.evaluate((n) => window.benchMark(n), name),
    async waitRecv(name, n, timeout = 120000) {
      const h = await page.waitForFunction(([c, k]) => (window.recv[c].n >= k ? window.recv[c] : null), [name, n], { timeout, polling: 20 });
      return h.jsonValue();
    },
    send: (name, to, n, inflight) => page.evaluate(([c, t, k, f]) => window.benchSend(c, t, k, f), [name, to, n, inflight]),
    async mem() {
      const s = await cdp();
      await s.send('HeapProfiler.collectGarbage');
      const heap = await s.send('Runtime.getHeapUsage');
      await s.detach();
      return { rss: rendererRSS(profile.dir), linear: await page.evaluate(() => window.linearMemory()), jsHeap: heap.usedSize };
    },
    // Runs fn under the CDP sampling profiler; resolves with the profile.
    async profile(fn) {
      const s = await cdp();
      await s.send('Profiler.enable');
      await s.send('Profiler.setSamplingInterval', { interval: 200 });
      await s.send('Profiler.start');
      try {
        await fn();
        return (await s.send('Profiler.stop')).profile;
      } finally {
        await s.detach();
      }
    },
    // CPU ms used so far by the page's renderer and by the whole browser
    // (IndexedDB's backend runs in the browser process).
    cpu() {
      const all = browserProcesses(profile.dir);
      return { renderer: cpuMs(renderer(profile.dir)?.pid), browser: all.reduce((a, p) => a + cpuMs(p.pid), 0) };
    },
    // Starts k dedicated Workers, each with its own module.
    startWorkers: (k) => page.evaluate((n) => window.benchWorkers(n), k),
    // The renderer's RSS (dedicated Workers run in their page's renderer)
    // and the linear memory of the Workers' modules.
    async workersMem() {
      return { rss: rendererRSS(profile.dir), linear: await page.evaluate(() => window.workersLinearMemory()) };
    },
    // A reload of the page with one paired client: ms from navigation to ready.
    async reloadToReady(name) {
      await open(`&autoconnect=${encodeURIComponent(name)}`);
      await page.waitForFunction(() => window.readyAt, null, { timeout: 60000 });
      const t = await page.evaluate(() => ({ ready: window.readyAt, loaded: window.loadedAt, start: window.wm.startMs }));
      record(F.reloadLoaded, 'wasmeow', t.loaded);
      record(F.reloadStart, 'wasmeow', t.start);
      return t.ready;
    },
    // Imports the snapshot as client `name` and opens it in a new page:
    // {deviceMs: createClient (IndexedDB open, device load), readyMs: from
    // createClient to ready}.
    async openBig(name, snapshot) {
      await page.evaluate(async ([n, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        await window.wm.importSession(n, bytes);
      }, [name, snapshot.toString('base64')]);
      return a.reloadBig(name);
    },
    async reloadBig(name) {
      await open(`&autoconnect=${encodeURIComponent(name)}`);
      await page.waitForFunction(() => window.readyAt, null, { timeout: 120000 });
      const t = await page.evaluate(() => ({ ready: window.readyAt, loaded: window.loadedAt, create: window.createMs }));
      return { deviceMs: t.create, readyMs: t.ready - t.loaded };
    },
    close: () => profile.close(),
  };
  return a;
}

// The processes of the browser started with this user-data-dir: the browser
// and every process below it.
function browserProcesses(dir) {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n')
    .map((l) => { const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l); return m && { pid: +m[1], ppid: +m[2], rss: +m[3] * 1024, args: m[4] }; }).filter(Boolean);
  const root = ps.find((p) => p.args.includes(`--user-data-dir=${dir}`) && !p.args.includes('--type='));
  if (!root) return [];
  const below = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of ps) if (!below.has(p.pid) && below.has(p.ppid)) { below.add(p.pid); grew = true; }
  }
  return ps.filter((p) => below.has(p.pid));
}

// The renderer of the profile's page: the largest --type=renderer process.
const renderer = (dir) => browserProcesses(dir).filter((p) => p.args.includes('--type=renderer')).sort((a, b) => b.rss - a.rss)[0];
const rendererRSS = (dir) => renderer(dir)?.rss ?? 0;

// CPU time (user + system, ms) a process has used, from /proc (clock ticks
// of 10 ms); 0 when it is gone.
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // fields 14 and 15, utime and stime
  } catch { return 0; }
}

let nativeBin = null;
function buildNative() {
  if (nativeBin) return nativeBin;
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-benchnative-'));
  nativeBin = join(dir, 'benchnative');
  execFileSync('go', ['build', '-o', nativeBin, './cmd/benchnative'], { cwd: repoDir, stdio: 'inherit' });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return nativeBin;
}

// One cmd/benchnative process: call(op, args) -> its reply.
function startNative() {
  const proc = spawn(buildNative(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map();
  let seq = 0;
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0;) {
      const reply = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const w = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (reply.error) w.reject(new Error(`benchnative: ${reply.error}`)); else w.resolve(reply);
    }
  });
  const call = (op, args = {}) => new Promise((res, rej) => {
    const id = ++seq;
    waiting.set(id, { resolve: res, reject: rej });
    proc.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
  });
  const close = () => new Promise((r) => { proc.on('exit', r); proc.stdin.end(); });
  return { call, close, pid: proc.pid };
}

async function nativeAdapter(fakewa, sync) {
  const dir = mkdtempSync(join(tmpdir(), `wasmeow-native-${sync}-`));
  let p = startNative();
  const init = (q) => q.call('init', { api: fakewa.baseURL, root: fakewa.rootKey });
  await init(p);
  const names = [];
  return {
    kind: sync === 'FULL' ? 'native-full' : 'native-off',
    async setup(pairs) {
      for (const [name, phone] of pairs) {
        await p.call('new', { name, db: join(dir, `${name}.db`), sync });
        await p.call('pair', { name, phone });
        names.push(name);
      }
    },
    connect: async (name) => (await p.call('connect', { name })).ms,
    disconnect: (name) => p.call('disconnect', { name }),
    mark: (name) => p.call('mark', { name }),
    waitRecv: (name, n) => p.call('waitRecv', { name, n }),
    send: async (name, to, n, inflight) => (await p.call('send', { name, to, n, inflight })).ms,
    mem: async () => { const m = await p.call('mem'); return { rss: m.rss, goHeap: m.heap }; },
    cpu: () => ({ process: cpuMs(p.pid) }),
    // A new process on the first client's database: ms from spawn to Connected.
    async reloadToReady(name) {
      await p.close();
      const t0 = performance.now();
      p = startNative();
      await init(p);
      await p.call('new', { name, db: join(dir, `${name}.db`), sync });
      await p.call('connect', { name });
      const ms = performance.now() - t0;
      for (const other of names) if (other !== name) await p.call('new', { name: other, db: join(dir, `${other}.db`), sync });
      return ms;
    },
    // Pairs client `name`, makes it a big account and stops it; resolves
    // with its snapshot (for wasmeow) and its database path.
    async makeBig(name, phone, n) {
      await this.setup([[name, phone]]);
      await p.call('bloat', { name, n });
      const out = join(dir, `${name}.snapshot`);
      await p.call('snapshot', { name, clientId: name, out });
      return { snapshot: readFileSync(out), db: join(dir, `${name}.db`) };
    },
    // A new process opens the database: {deviceMs, readyMs (open to
    // Connected), mem}.
    async openBig(name, db) {
      const q = startNative();
      try {
        await init(q);
        const { openMs } = await q.call('new', { name, db, sync });
        const connected = await q.call('connect', { name });
        const m = await q.call('mem');
        await q.call('disconnect', { name });
        return { deviceMs: openMs, readyMs: openMs + connected.ms, mem: { rss: m.rss, goHeap: m.heap } };
      } finally {
        await q.close();
      }
    },
    close: async () => { await p.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

async function baileysAdapter(fakewa, cacheKeys) {
  const socks = new Map(); // name -> {client, recv}
  const start = async (name, dir, onQR) => {
    const recv = socks.get(name)?.recv ?? { n: 0, first: 0, last: 0 };
    const client = await startBaileys(fakewa, { dir, onQR, cacheKeys });
    const count = (sock) => sock.ev.on('messages.upsert', ({ messages }) => {
      for (const m of messages) {
        if (m.key.fromMe || !m.message) continue;
        const now = Date.now();
        if (recv.n === 0) recv.first = now;
        recv.n++;
        recv.last = now;
      }
    });
    // The socket re-opens itself after pairing: count on every socket.
    let seen = null;
    const watch = setInterval(() => { if (client.sock !== seen) { seen = client.sock; count(seen); } }, 5);
    socks.set(name, { client, recv, watch, dir: client.dir });
    return client;
  };
  return {
    kind: cacheKeys ? 'baileys-cache' : 'baileys',
    async setup(pairs) {
      for (const [name, phone] of pairs) {
        const c = await start(name, undefined, (qr) => fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr }));
        // Paired: a socket opened after the 515 restart.
        await c.waitFor('connection.update', (d) => d.connection === 'open', { timeout: 60000 });
        for (let i = 0; i < 400 && !c.events.some((e) => e.name === 'connection.update' && e.data.connection === 'open' && e.socket > 1); i++) await new Promise((r) => setTimeout(r, 50));
      }
    },
    async connect(name) {
      const s = socks.get(name);
      const t0 = performance.now();
      const c = await start(name, s.dir);
      await c.waitFor('connection.update', (d) => d.connection === 'open', { timeout: 60000 });
      return performance.now() - t0;
    },
    async disconnect(name) {
      const s = socks.get(name);
      clearInterval(s.watch);
      await s.client.stop({ keepDir: true });
    },
    mark: (name) => { Object.assign(socks.get(name).recv, { n: 0, first: 0, last: 0 }); },
    async waitRecv(name, n, timeout = 120000) {
      const r = socks.get(name).recv;
      for (const end = Date.now() + timeout; r.n < n; await new Promise((x) => setTimeout(x, 10))) {
        if (Date.now() > end) throw new Error(`baileys ${name}: received ${r.n} of ${n}`);
      }
      return { ...r };
    },
    async send(name, to, n, inflight) {
      const c = socks.get(name).client;
      const t0 = performance.now();
      let next = 0;
      const worker = async () => { while (next < n) { const i = next++; await c.send(`${to}@s.whatsapp.net`, { text: `baileys ${i}` }); } };
      await Promise.all(Array.from({ length: Math.max(1, inflight) }, worker));
      return performance.now() - t0;
    },
    close: async () => { for (const s of socks.values()) { clearInterval(s.watch); await s.client.stop(); } },
  };
}

// ---- the workloads ---------------------------------------------------------

let currentRun = 0;
const results = new Map(); // figure -> kind -> [values]
const record = (figure, kind, v) => {
  if (!results.has(figure)) results.set(figure, new Map());
  const m = results.get(figure);
  if (!m.has(kind)) m.set(kind, []);
  m.get(kind).push(v);
  log(`${figure} · ${kind}: ${typeof v === 'number' ? v.toFixed(1) : JSON.stringify(v)}`);
};

const F = {
  backlog: `receive a backlog of ${N.backlog} texts on connect (msg/s)`,
  backlogCPU: '… CPU time per message of the backlog (ms): the page\'s renderer and the whole browser; natively the process',
  live: `receive ${N.live} live texts (msg/s)`,
  sendSeq: `send ${N.sends}, one after another (msg/s)`,
  sendPar: `send ${N.sends}, 10 in flight (msg/s)`,
  multi: `${N.clients} clients in one ${'page/process'} receiving ${N['per-client']} each at once, total (msg/s)`,
  multiWorkers: `… the same, wasmeow's ${N.clients} clients in one page over ${N.workers} dedicated Workers (natively: the same one process again) (msg/s)`,
  reload: 'reload to ready, restored session (ms)',
  reloadLoaded: '… of which: navigation to module loaded (ms)',
  reloadStart: '… of which: wasm fetch, compile and Go start (startMs, ms)',
  bigDevice: `open a big account (${N.big * 5} contacts, ${N.big * 2} sessions, ${Math.max(1, Math.floor(N.big * 3 / 10))} sender keys, ${N.big * 20} message secrets and MACs): storage opened, device loaded (ms)`,
  bigReady: '… and to ready (natively: to Connected) (ms)',
  memReady: 'memory after ready, one client (MB)',
  memBig: 'memory after ready, the big account (MB)',
  memPerClient: `memory per extra client, ${N.clients} clients (MB)`,
  memPerWorker: `memory per dedicated Worker, its module loaded (MB)`,
  memPerWorkerClient: `memory per client in the Workers, ${N.clients} clients (MB)`,
};

async function main() {
  const fakewa = await startFakewa();
  const web = await startStatic();
  const peer = newPhone(); // the phone every client talks with
  await fakewa.api('POST', '/api/accounts', { phone: peer, pushName: 'Peer' });
  const targets = [];
  const makers = {
    wasmeow: () => wasmeowAdapter(fakewa, web),
    'native-full': () => nativeAdapter(fakewa, 'FULL'),
    'native-off': () => nativeAdapter(fakewa, 'OFF'),
    baileys: () => baileysAdapter(fakewa, false),
    'baileys-cache': () => baileysAdapter(fakewa, true),
  };
  try {
    for (const kind of KINDS) {
      log(`setting up ${kind}`);
      const t = await makers[kind]();
      t.main = { name: 'main', phone: newPhone() };
      t.many = Array.from({ length: N.clients }, (_, i) => ({ name: `c${i}`, phone: newPhone() }));
      const withMany = kind.startsWith('baileys') ? [] : t.many; // Baileys: one socket per process is what users run
      for (const a of [t.main, ...withMany]) {
        await fakewa.api('POST', '/api/accounts', { phone: a.phone, pushName: a.name });
        // The peer lets the client write first (its privacy token, as after a first contact).
        await fakewa.api('POST', `/api/accounts/${peer}/tokens`, { to: a.phone, notify: true });
      }
      await t.setup([[t.main.name, t.main.phone]]);
      if (t.mem) record(F.memReady, kind, await t.mem());
      if (withMany.length) {
        const before = await t.mem();
        await t.setup(withMany.map((a) => [a.name, a.phone]));
        const after = await t.mem();
        record(F.memPerClient, kind, Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - before[k]) / withMany.length])));
      }
      t.hasMany = withMany.length > 0;
      if (kind === 'wasmeow' && N.workers > 0) {
        t.manyW = Array.from({ length: N.clients }, (_, i) => ({ name: `w${i}`, phone: newPhone() }));
        for (const a of t.manyW) {
          await fakewa.api('POST', '/api/accounts', { phone: a.phone, pushName: a.name });
          await fakewa.api('POST', `/api/accounts/${peer}/tokens`, { to: a.phone, notify: true });
        }
        const before = await t.workersMem();
        await t.startWorkers(N.workers);
        const loaded = await t.workersMem();
        record(F.memPerWorker, kind, { rss: (loaded.rss - before.rss) / N.workers, linear: loaded.linear / N.workers });
        const index = new Map(t.manyW.map((a, i) => [a.name, i % N.workers]));
        await t.setup(t.manyW.map((a) => [a.name, a.phone]), (name) => index.get(name));
        const after = await t.workersMem();
        record(F.memPerWorkerClient, kind, Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - loaded[k]) / N.clients])));
      }
      targets.push(t);
    }
    for (let run = 0; run < N.runs; run++) {
      currentRun = run;
      // Rotate the order so no client always runs first (or last) in a round.
      const order = targets.map((_, i) => targets[(i + run) % targets.length]);
      log(`run ${run + 1} of ${N.runs}: ${order.map((t) => t.kind).join(', ')}`);
      for (const t of order) await backlog(fakewa, peer, t);
      for (const t of order) await live(fakewa, peer, t);
      for (const t of order) record(F.sendSeq, t.kind, N.sends / (await t.send(t.main.name, peer, N.sends, 1)) * 1000);
      for (const t of order) record(F.sendPar, t.kind, N.sends / (await t.send(t.main.name, peer, N.sends, 10)) * 1000);
      for (const t of order) if (t.hasMany) await multi(fakewa, peer, t);
      if (N.workers > 0) for (const t of order) if (t.hasMany) await multi(fakewa, peer, t, t.manyW ?? t.many, F.multiWorkers);
    }
    for (let i = 0; i < N.loads; i++) {
      for (const t of targets) if (t.reloadToReady) record(F.reload, t.kind, await t.reloadToReady(t.main.name));
    }
    const builder = targets.find((t) => t.kind === 'native-full');
    if (N.big > 0 && builder) {
      const phone = newPhone();
      await fakewa.api('POST', '/api/accounts', { phone, pushName: 'big' });
      log(`making a big account (n = ${N.big})`);
      const big = await builder.makeBig('big', phone, N.big);
      for (let i = 0; i < N.loads; i++) {
        for (const t of targets) {
          if (!t.openBig || t.kind === 'wasmeow') continue;
          const r = await t.openBig('big', big.db);
          record(F.bigDevice, t.kind, r.deviceMs);
          record(F.bigReady, t.kind, r.readyMs);
          if (i === 0) record(F.memBig, t.kind, r.mem);
        }
      }
      const w = targets.find((t) => t.kind === 'wasmeow');
      if (w) {
        // One import, then loads of it (the first load is the import's page).
        for (let i = 0; i < N.loads; i++) {
          const r = i === 0 ? await w.openBig('big', big.snapshot) : await w.reloadBig('big');
          record(F.bigDevice, 'wasmeow', r.deviceMs);
          record(F.bigReady, 'wasmeow', r.readyMs);
        }
        record(F.memBig, 'wasmeow', await w.mem());
      }
    }
  } finally {
    for (const t of targets) await t.close().catch((e) => log('close', e.message));
    await web.close();
    await fakewa.close();
  }
  print();
}

async function backlog(fakewa, peer, t) {
  await t.disconnect(t.main.name);
  await fakewa.api('POST', `/api/accounts/${peer}/send`, { to: t.main.phone, text: 'backlog', count: N.backlog });
  await t.mark(t.main.name);
  let r;
  const cpu0 = t.cpu?.();
  const t0 = Date.now();
  const drain = async () => {
    await t.connect(t.main.name);
    r = await t.waitRecv(t.main.name, N.backlog);
  };
  if (opt.profile && t.profile && currentRun === N.runs - 1) {
    const p = await t.profile(drain);
    writeFileSync(opt.profile, JSON.stringify(p));
    printProfile(p);
  } else {
    await drain();
  }
  record(F.backlog, t.kind, N.backlog / (r.last - t0) * 1000);
  if (cpu0) {
    const cpu1 = t.cpu();
    record(F.backlogCPU, t.kind, Object.fromEntries(Object.keys(cpu0).map((k) => [k, (cpu1[k] - cpu0[k]) / N.backlog])));
  }
}

// The heaviest functions of a CPU profile, by self and by total time (a
// function counted once per sample however often it is on the stack).
function printProfile(p, top = 45) {
  const parent = new Map();
  const node = new Map(p.nodes.map((n) => [n.id, n]));
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => n.callFrame.functionName || `(anonymous ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber})`;
  const self = new Map();
  const total = new Map();
  let all = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    all += dt;
    const n = node.get(id);
    self.set(name(n), (self.get(name(n)) ?? 0) + dt);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = name(node.get(at));
      if (!seen.has(f)) { seen.add(f); total.set(f, (total.get(f) ?? 0) + dt); }
    }
  });
  const show = (m, title) => {
    log(`profile, ${title} (of ${(all / 1000).toFixed(0)} ms):`);
    for (const [f, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) log(`  ${(100 * us / all).toFixed(1).padStart(5)}%  ${f.slice(0, 140)}`);
  };
  show(self, 'self time');
  show(total, 'total time');
}

async function live(fakewa, peer, t) {
  await t.mark(t.main.name);
  const t0 = Date.now();
  await fakewa.api('POST', `/api/accounts/${peer}/send`, { to: t.main.phone, text: 'live', count: N.live });
  const r = await t.waitRecv(t.main.name, N.live);
  record(F.live, t.kind, N.live / (r.last - t0) * 1000);
}

async function multi(fakewa, peer, t, many = t.many, figure = F.multi) {
  for (const a of many) await t.mark(a.name);
  const t0 = Date.now();
  await Promise.all(many.map((a) => fakewa.api('POST', `/api/accounts/${peer}/send`, { to: a.phone, text: 'multi', count: N['per-client'] })));
  const rs = await Promise.all(many.map((a) => t.waitRecv(a.name, N['per-client'])));
  record(figure, t.kind, (N.clients * N['per-client']) / (Math.max(...rs.map((r) => r.last)) - t0) * 1000);
}

// ---- the table -------------------------------------------------------------

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const mb = (b) => (b / 1048576).toFixed(1);

const MEMORY = [F.memReady, F.memPerClient, F.memPerWorker, F.memPerWorkerClient, F.memBig];

function print() {
  const kinds = KINDS;
  const lines = [];
  lines.push(`| figure | ${kinds.join(' | ')} | ${kinds.filter((k) => k !== 'wasmeow').map((k) => `${k} / wasmeow`).join(' | ')} |`);
  lines.push(`|---|${kinds.map(() => '---:').join('|')}|${kinds.filter((k) => k !== 'wasmeow').map(() => '---:').join('|')}|`);
  for (const figure of Object.values(F)) {
    const byKind = results.get(figure);
    if (!byKind || MEMORY.includes(figure)) continue;
    const range = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
    const cells = kinds.map((k) => {
      const xs = byKind.get(k);
      if (!xs?.length) return '–';
      if (typeof xs[0] === 'number') return range(xs);
      return Object.keys(xs[0]).map((key) => `${key} ${range(xs.map((x) => x[key]))}`).join(', ');
    });
    const w = byKind.get('wasmeow');
    const ratios = kinds.filter((k) => k !== 'wasmeow').map((k) => {
      const xs = byKind.get(k);
      return xs?.length && w?.length && typeof xs[0] === 'number' ? `${(median(xs) / median(w)).toFixed(2)}` : '–';
    });
    lines.push(`| ${figure} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  for (const figure of MEMORY) {
    const byKind = results.get(figure);
    if (!byKind) continue;
    const cells = kinds.map((k) => {
      const m = byKind.get(k)?.[0];
      if (!m) return '–';
      return Object.entries(m).map(([name, v]) => `${name} ${mb(v)}`).join(', ');
    });
    lines.push(`| ${figure} | ${cells.join(' | ')} | ${kinds.filter((k) => k !== 'wasmeow').map(() => '').join(' | ')} |`);
  }
  console.log(`${N.runs} interleaved runs; median (min–max). Ratios: median of the other / median of wasmeow (for msg/s above 1 means faster than wasmeow, for ms and MB above 1 means slower).`);
  console.log(`chromium: ${chromiumVersion()}; ${process.env.BENCH_NOTE || 'a machine shared with other work: figures are noisy'}`);
  console.log(lines.join('\n'));
  if (opt.json) writeFileSync(opt.json, JSON.stringify(Object.fromEntries([...results].map(([f, m]) => [f, Object.fromEntries(m)])), null, 1));
}

function chromiumVersion() {
  try { return execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'unknown'; }
}

main().catch((e) => { console.error(e); process.exit(1); });
