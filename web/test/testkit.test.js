// The test kit (`wasmeow-testing` and the @wasmeow/fakewa-<platform>
// packages, `make package`) used as a user's project would: a fresh app
// outside the repo installs the packed tarballs offline and runs its own
// Playwright-style test (node --test with playwright-core), which loads
// wasmeow in a page, pairs it through the kit's fixture, exchanges a text
// with a simulated phone both ways, cuts the socket, sees the client
// reconnect, and has the phone log the device out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packedTarball, freshApp, npmDir, webDir } from '../test-support/package.js';

const kitDir = join(npmDir, 'kit');
const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];
let tarball, kit, app;
const plat = (p) => join(kitDir, readdirSync(kitDir).find((f) => f.startsWith(`wasmeow-fakewa-${p}-`) && f.endsWith('.tgz')));
const manifest = (tgz) => JSON.parse(execFileSync('tar', ['-xOzf', tgz, 'package/package.json'], { encoding: 'utf8' }));
const npm = (args, cwd) => execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(() => {
  tarball = packedTarball(); // make package: also the kit
  kit = join(kitDir, readdirSync(kitDir).find((f) => /^wasmeow-testing-.*\.tgz$/.test(f)));
});

after(() => app?.close());

test('the kit and one package per platform: os/cpu fields, an executable binary, versions in step', () => {
  const version = manifest(tarball).version;
  const k = manifest(kit);
  assert.equal(k.version, version);
  assert.deepEqual(Object.keys(k.optionalDependencies).sort(), PLATFORMS.map((p) => `@wasmeow/fakewa-${p}`).sort());
  assert.equal(k.dependencies, undefined);
  assert.equal(k.scripts, undefined, 'no install scripts');
  const files = execFileSync('tar', ['tzf', kit], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(files, ['LICENSE', 'README.md', 'index.d.ts', 'index.js', 'package.json'].map((f) => `package/${f}`));
  for (const p of PLATFORMS) {
    const tgz = plat(p);
    const m = manifest(tgz);
    const [os, cpu] = p.split('-');
    assert.equal(m.name, `@wasmeow/fakewa-${p}`);
    assert.equal(m.version, version);
    assert.deepEqual([m.os, m.cpu], [[os], [cpu]]);
    const exe = os === 'win32' ? 'fakewa.exe' : 'fakewa';
    const listing = execFileSync('tar', ['tvzf', tgz], { encoding: 'utf8' });
    const line = listing.split('\n').find((l) => l.endsWith(`package/bin/${exe}`));
    assert.ok(line, `${p}: bin/${exe} in ${listing}`);
    assert.match(line, /^-rwxr-xr-x/, `${p}: executable`);
    assert.equal(binaryTarget(execFileSync('tar', ['-xOzf', tgz, `package/bin/${exe}`], { maxBuffer: 64 << 20 })), p);
  }
});

// The platform an executable is for, from its header: ELF, Mach-O or PE.
function binaryTarget(b) {
  if (b.readUInt32BE(0) === 0x7f454c46) return `linux-${{ 62: 'x64', 183: 'arm64' }[b.readUInt16LE(18)]}`;
  if (b.readUInt32LE(0) === 0xfeedfacf) return `darwin-${{ 0x01000007: 'x64', 0x0100000c: 'arm64' }[b.readUInt32LE(4)]}`;
  if (b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    if (b.toString('latin1', pe, pe + 4) === 'PE\0\0') return `win32-${{ 0x8664: 'x64', 0xaa64: 'arm64' }[b.readUInt16LE(pe + 4)]}`;
  }
  return 'unknown';
}

// The user's test, as it would sit in their repository.
const APP_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { fixtures } from 'wasmeow-testing';

// The kit's Playwright fixture, driven by hand as Playwright would (worker scope).
const withFakewa = (body) => fixtures.fakewa[0]({ fakewaOptions: fixtures.fakewaOptions[0] }, body);

test('pairs, texts both ways, survives a cut socket, gets logged out', { timeout: 80000 }, () => withFakewa(async (fakewa) => {
  const types = { js: 'text/javascript', html: 'text/html', wasm: 'application/wasm' };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    try {
      const body = await readFile('.' + (path === '/' ? '/index.html' : path));
      res.writeHead(200, { 'content-type': types[path.split('.').pop()] || 'text/html' }).end(body);
    } catch { res.writeHead(404).end(); }
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page]', e.message));
    await page.goto(\`http://127.0.0.1:\${server.address().port}/?ws=\${encodeURIComponent(fakewa.socketURL)}&root=\${encodeURIComponent(fakewa.trustRootKey)}\`);

    const me = await fakewa.pair(page);
    await page.waitForFunction(() => window.events.includes('ready'));
    const friend = await fakewa.createPhone();

    await friend.send(me.phone, 'hello from the phone');
    await page.waitForFunction(() => window.texts.includes('hello from the phone'));
    await page.evaluate((to) => window.client.sendText(to, 'hello from the page'), friend.jid);
    const got = await friend.waitForMessage('hello from the page');
    assert.ok([me.phone.jid, me.phone.lid].includes(got.chat), JSON.stringify(got));

    await me.cut();
    await page.waitForFunction(() => window.events.filter((e) => e === 'ready').length >= 2, null, { timeout: 30000 });
    const evs = await page.evaluate(() => window.events);
    assert.ok(evs.includes('disconnected') && evs.includes('reconnecting'), evs.join());
    await me.waitOnline();
    await friend.send(me.phone.jid, 'after the cut');
    await page.waitForFunction(() => window.texts.includes('after the cut'));

    await me.logout();
    await page.waitForFunction(() => window.events.includes('logged_out'));
  } finally {
    await browser.close();
    server.close();
  }
}));
`;

const APP_MAIN = `import { loadWasmeow } from 'wasmeow';

const q = new URLSearchParams(location.search);
window.events = [];
window.texts = [];
const wm = await loadWasmeow({ socketURL: q.get('ws'), trustRootKey: q.get('root') });
const client = await wm.createClient({ auth: { strategy: 'none' }, logLevel: 'error' });
for (const name of ['ready', 'disconnected', 'reconnecting', 'logged_out']) client.on(name, () => window.events.push(name));
client.on('message', (m) => window.texts.push(m.text));
client.on('qr', ({ code }) => { window.__wasmeowQR = code; }); // the test kit's contract
window.client = client;
await client.connect();
`;

const APP_HTML = `<!doctype html><meta charset="utf-8"><title>an app on wasmeow</title>
<script type="importmap">{"imports": {"wasmeow": "./node_modules/wasmeow/wasmeow.js"}}</script>
<script type="module" src="./main.js"></script>
`;

test('a fresh app installs the tarballs offline and its own test pairs, texts, reconnects and is logged out through the kit', { timeout: 150000 }, async () => {
  // The main package and the kit alone: npm must not fail offline on the
  // optional platform packages it cannot fetch.
  app = freshApp(tarball);
  npm(['install', '-D', kit], app.dir);
  const tryKit = () => spawn('node', ['-e', "import('wasmeow-testing').then((k) => console.log(k.fakewaBinary()))"], { cwd: app.dir });
  const run = (proc) => new Promise((r) => { let out = ''; proc.stdout.on('data', (d) => { out += d; }); proc.stderr.on('data', (d) => { out += d; }); proc.on('exit', (code) => r({ code, out })); });
  const here = `${process.platform}-${process.arch}`;
  const missing = await run(tryKit());
  assert.notEqual(missing.code, 0, 'no platform package yet');
  assert.match(missing.out, /WASMEOW_FAKEWA/, 'the error names the override');

  // The platform package, as npm would pick it for this machine.
  if (PLATFORMS.includes(here)) npm(['install', '-D', plat(here)], app.dir);
  const m = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: app.dir, encoding: 'utf8' }));
  assert.ok(m.devDependencies['wasmeow-testing'], JSON.stringify(m));
  const found = await run(tryKit());
  assert.equal(found.code, 0, found.out);
  assert.ok(found.out.trim().endsWith(join('node_modules', '@wasmeow', `fakewa-${here}`, 'bin', 'fakewa')), found.out);
  assert.ok(!existsSync(join(app.dir, 'node_modules/@wasmeow/fakewa-win32-x64')), 'no other platform installed');

  // An explicit binary path wins.
  const explicit = await run(spawn('node', ['-e', "import('wasmeow-testing').then((k) => console.log(k.fakewaBinary()))"], { cwd: app.dir, env: { ...process.env, WASMEOW_FAKEWA: process.execPath } }));
  assert.equal(explicit.out.trim(), process.execPath);

  // The user's test runs playwright-core (web/'s copy stands in for their devDependency).
  symlinkSync(join(webDir, 'node_modules/playwright-core'), join(app.dir, 'node_modules/playwright-core'));
  writeFileSync(join(app.dir, 'index.html'), APP_HTML);
  writeFileSync(join(app.dir, 'main.js'), APP_MAIN);
  writeFileSync(join(app.dir, 'app.test.js'), APP_TEST);
  const env = { ...process.env, CHROMIUM: process.env.CHROMIUM || '/usr/bin/chromium' };
  delete env.NODE_TEST_CONTEXT; // a test run of its own, not a child of this one
  const res = await run(spawn('node', ['--test', 'app.test.js'], { cwd: app.dir, env }));
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /# pass 1\n# fail 0/);
  console.log(`the app's own test: ${res.out.split('\n').filter((l) => /^(ok|# pass|# duration)/.test(l)).join('; ')}`);
});
