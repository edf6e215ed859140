// A whatsmeow device on sqlite moves into a page and back (docs/AUTHSTATE.md):
// an unmodified native whatsmeow client pairs and talks with a peer, the
// wasmeow-session command converts its database, the page imports the
// snapshot and goes on talking with no QR, exports it, and the command turns
// that into a new database where the native client goes on again. No side
// ever needs a retry receipt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, events, waitMessage, decryptFailures, waitQueuesEmpty, repoDir } from '../test-support/e2e.js';

const ALICE = '15550000061';
const BOB = '15550000062';
let server, fakewa, browser, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmeow-migrate-'));
  for (const [bin, pkg] of [['wasmeow-session', './cmd/wasmeow-session'], ['sqliteclient', './sessionconv/internal/sqliteclient']]) {
    execFileSync('go', ['build', '-o', join(dir, bin), pkg], { cwd: repoDir, stdio: 'inherit' });
  }
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The page's client options (socketURL and trustRootKey are the page's: pageOptions).
const clientOptions = (clientId) => ({ auth: { strategy: 'local', clientId }, logLevel: 'error' });

// The native client: pairs (with -pair) or logs in, talks with Bob's phone both ways, exits 1 on any retry.
const native = (...args) => JSON.parse(execFileSync(join(dir, 'sqliteclient'),
  ['-api', fakewa.baseURL, '-root', fakewa.rootKey, '-peer', BOB, ...args], { encoding: 'utf8' }));
const convert = (...args) => execFileSync(join(dir, 'wasmeow-session'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('a whatsmeow device on sqlite moves into the page and back, keeping its link and its Signal sessions', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: ALICE, pushName: 'Alice' });
  await fakewa.api('POST', '/api/accounts', { phone: BOB, pushName: 'Bob' });
  const { jid } = native('-db', join(dir, 'whatsmeow.db'), '-pair', ALICE, '-round', 'on sqlite');
  assert.match(convert('import-sqlite', join(dir, 'whatsmeow.db'), '-o', join(dir, 'session.snapshot')), new RegExp(`device ${jid}`));

  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  await page.evaluate((b) => window.wm.importSession('moved', new Uint8Array(b)), [...readFileSync(join(dir, 'session.snapshot'))]);
  await page.evaluate((o) => window.create('moved', o), clientOptions('moved'));
  await page.evaluate(() => window.clients.moved.connect());
  await waitEvent(page, 'moved', 'ready');
  assert.ok(!(await events(page, 'moved')).includes('qr'), 'imported: no QR');
  assert.equal(await page.evaluate(() => window.clients.moved.getCreds().me), jid, 'the same linked device');
  for (const i of [0, 1]) {
    // Bob's phone first: it goes on with the session it has, the page's copy must decrypt.
    await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: ALICE, text: `to the page ${i}` });
    await waitMessage(page, 'moved', (m) => m.text === `to the page ${i}`);
    await page.evaluate(([to, t]) => window.clients.moved.sendText(to, t), [BOB, `from the page ${i}`]);
    await fakewa.waitInbox(BOB, (m) => m.text === `from the page ${i}`);
  }
  assert.deepEqual(await waitQueuesEmpty(fakewa, [jid]), {}, 'every receipt sent');
  assert.deepEqual(decryptFailures(fakewa), [], 'the page needed no retry receipt');
  const exported = await page.evaluate(async () => Array.from(await window.clients.moved.exportSession()));
  await page.evaluate(() => window.clients.moved.destroy());
  await ctx.close();

  writeFileSync(join(dir, 'exported.snapshot'), Buffer.from(exported));
  convert('export-sqlite', join(dir, 'exported.snapshot'), '-o', join(dir, 'back.db'));
  assert.equal(native('-db', join(dir, 'back.db'), '-round', 'back on sqlite').jid, jid);
  const accounts = await fakewa.api('GET', '/api/accounts');
  const linked = accounts.find((a) => a.phone === ALICE).devices.map((d) => d.jid).filter((d) => d.includes(':'));
  assert.deepEqual(linked, [jid], 'one linked device all along');
  assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decryption failure');
});
