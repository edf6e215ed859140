// The test kit (`wasmeow-testing` and the @wasmeow/fakewa-<platform>
// packages, `make package`) used as a user's project would: a fresh app
// outside the repo installs the packed tarballs offline and runs its own
// test under Playwright Test (@playwright/test's runner and config, the kit's
// fixture), which loads wasmeow in a page, pairs it, exchanges texts, an
// image and a reaction with a simulated phone, cuts the socket, sees the
// client reconnect, and has the phone log the device out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

const freePort = () => new Promise((resolve, reject) => {
  const srv = createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  srv.on('error', reject);
});

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

// The user's test, as it would sit in their repository: a Playwright Test
// spec (@playwright/test's runner, not a hand-driven fixture) using the kit's
// fixture, with its config and the static server Playwright starts for it.
const APP_CONFIG = `import { defineConfig } from '@playwright/test';

const port = Number(process.env.APP_PORT);
export default defineConfig({
  testDir: 'tests',
  workers: 1,
  timeout: 90000,
  reporter: 'list',
  use: {
    baseURL: \`http://127.0.0.1:\${port}\`,
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] },
  },
  webServer: { command: 'node serve.js', url: \`http://127.0.0.1:\${port}/\`, reuseExistingServer: false },
});
`;

const APP_SERVE = `import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

const types = { js: 'text/javascript', html: 'text/html', wasm: 'application/wasm' };
createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    const body = await readFile('.' + (path === '/' ? '/index.html' : path));
    res.writeHead(200, { 'content-type': types[path.split('.').pop()] || 'text/html' }).end(body);
  } catch { res.writeHead(404).end(); }
}).listen(Number(process.env.APP_PORT), '127.0.0.1');
`;

const APP_SPEC = `import { test as base, expect } from '@playwright/test';
import { fixtures } from 'wasmeow-testing';

const test = base.extend(fixtures);
test.use({ fakewaOptions: { args: ['-media-cors'] } }); // the page fetches media from fakewa directly

test('pairs, messages both ways, survives a cut socket, gets logged out', async ({ page, fakewa }) => {
  page.on('pageerror', (e) => console.error('[page]', e.message));
  await page.goto(\`/?ws=\${encodeURIComponent(fakewa.socketURL)}&root=\${encodeURIComponent(fakewa.trustRootKey)}\`);
  const me = await fakewa.pair(page);
  await page.waitForFunction(() => window.events.includes('ready'));
  const friend = await fakewa.createPhone();

  await friend.send(me.phone, 'hello from the phone');
  await expect(page.locator('#log')).toContainText('text: hello from the phone');
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  await friend.sendMedia(me.phone, { type: 'image', data: png, mimetype: 'image/png', caption: 'a picture' });
  await expect(page.locator('#log')).toContainText('image: a picture (11 bytes)');
  const id = await page.evaluate((to) => window.client.sendText(to, 'hello from the page'), friend.jid);
  const got = await friend.waitForMessage('hello from the page');
  expect([me.phone.jid, me.phone.lid]).toContain(got.chat);
  await friend.sendMessage(me.phone, { reactionMessage: { key: { remoteJID: friend.jid, fromMe: false, ID: id }, text: '👍' } });
  await expect(page.locator('#log')).toContainText('reaction: 👍');

  await me.cut();
  await page.waitForFunction(() => window.events.filter((e) => e === 'ready').length >= 2, null, { timeout: 30000 });
  expect(await page.evaluate(() => window.events)).toEqual(expect.arrayContaining(['disconnected', 'reconnecting']));
  await me.waitOnline();
  await friend.send(me.phone.jid, 'after the cut');
  await expect(page.locator('#log')).toContainText('text: after the cut');

  await me.logout();
  await page.waitForFunction(() => window.events.includes('logged_out'));
});
`;

const APP_MAIN = `import { loadWasmeow } from 'wasmeow';

const q = new URLSearchParams(location.search);
window.events = [];
const log = (line) => document.querySelector('#log').append(line + '\\n');
const wm = await loadWasmeow({ socketURL: q.get('ws'), trustRootKey: q.get('root') });
const client = await wm.createClient({ auth: { strategy: 'none' }, logLevel: 'error' });
for (const name of ['ready', 'disconnected', 'reconnecting', 'logged_out']) client.on(name, () => window.events.push(name));
client.on('message', async (m) => {
  if (m.type === 'image') log(\`image: \${m.media.caption} (\${(await client.downloadMedia(m)).length} bytes)\`);
  else if (m.type === 'reaction') log(\`reaction: \${m.reaction.text}\`);
  else log(\`\${m.type}: \${m.text}\`);
});
client.on('qr', ({ code }) => { window.__wasmeowQR = code; }); // the test kit's contract
window.client = client;
await client.connect();
`;

const APP_HTML = `<!doctype html><meta charset="utf-8"><title>an app on wasmeow</title>
<script type="importmap">{"imports": {"wasmeow": "./node_modules/wasmeow/wasmeow.js"}}</script>
<pre id="log"></pre>
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

  // The user's test runs under Playwright Test (web/'s copies of @playwright/test
  // and its playwright packages stand in for their devDependencies).
  mkdirSync(join(app.dir, 'node_modules/@playwright'), { recursive: true });
  for (const dep of ['@playwright/test', 'playwright', 'playwright-core']) symlinkSync(join(webDir, 'node_modules', dep), join(app.dir, 'node_modules', dep));
  mkdirSync(join(app.dir, 'tests'));
  writeFileSync(join(app.dir, 'index.html'), APP_HTML);
  writeFileSync(join(app.dir, 'main.js'), APP_MAIN);
  writeFileSync(join(app.dir, 'serve.js'), APP_SERVE);
  writeFileSync(join(app.dir, 'playwright.config.js'), APP_CONFIG);
  writeFileSync(join(app.dir, 'tests/app.spec.js'), APP_SPEC);
  const env = { ...process.env, CHROMIUM: process.env.CHROMIUM || '/usr/bin/chromium', APP_PORT: String(await freePort()), CI: '1' };
  delete env.NODE_TEST_CONTEXT; // a test run of its own, not a child of this one
  const res = await run(spawn('node', [join(app.dir, 'node_modules/@playwright/test/cli.js'), 'test'], { cwd: app.dir, env }));
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /1 passed/);
  console.log(`the app's own test: ${res.out.split('\n').filter((l) => /passed|failed/.test(l)).join('; ').trim()}`);
});
