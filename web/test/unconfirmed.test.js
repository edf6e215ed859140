// A pairing the service never confirmed: the device was stored when
// pair-success arrived, but the answer never reached the server (a crash
// or a lost connection right after the scan). The next login is refused
// with 401; that is no logout by the user, so the client says
// pairing_unconfirmed and starts over with a QR by itself (issue 9, defect 5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, waitEvent, eventCount } from '../test-support/e2e.js';

let server, fakewa, profile, page;
const JUNE = '15550000051';

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  profile = await launchPersistent();
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  await fakewa.api('POST', '/api/accounts', { phone: JUNE, pushName: 'June' });
});

after(async () => {
  await profile?.close();
  await fakewa?.close();
  await server?.close();
});

const options = () => ({ auth: { strategy: 'local', clientId: 'june' }, logLevel: 'error' });

// Scans the current QR with the server set to lose the companion's answer.
async function scanLosingConfirmation(from) {
  const qr = await waitEvent(page, 'june', 'qr', { from });
  await fakewa.api('POST', '/api/faults/lose-pair-confirmation');
  await assert.rejects(fakewa.api('POST', `/api/accounts/${JUNE}/scan`, { qr: qr.payload.code }), /lost/);
  await waitEvent(page, 'june', 'authenticated', { from });
}

async function expectStartOver(from) {
  const failure = await waitEvent(page, 'june', 'auth_failure', { from }).catch(async (e) => { throw new Error(e.message + JSON.stringify(await page.evaluate(() => window.events.june.map((x) => [x.name, x.payload])))); });
  assert.equal(failure.payload.reason, 'pairing_unconfirmed', JSON.stringify(failure.payload));
  const out = await waitEvent(page, 'june', 'logged_out', { from });
  assert.equal(out.payload.reason, 'pairing_unconfirmed');
  // A fresh QR follows without the page calling connect().
  const qr = await waitEvent(page, 'june', 'qr', { from: from + 1 + (await page.evaluate((f) => window.events.june.slice(f).findIndex((e) => e.name === 'logged_out'), from)) });
  return qr;
}

test('a lost pair confirmation starts over with a QR, and the next scan pairs', async () => {
  await page.evaluate((o) => window.create('june', o), options());
  await page.evaluate(() => window.clients.june.connect());
  await scanLosingConfirmation(0);
  // The server cut the socket; the client reconnects, is refused with 401.
  const qr = await expectStartOver(0);
  const from = await eventCount(page, 'june');
  await fakewa.api('POST', `/api/accounts/${JUNE}/scan`, { qr: qr.payload.code });
  await waitEvent(page, 'june', 'ready', { from });
  const accounts = await fakewa.api('GET', '/api/accounts');
  const june = accounts.find((a) => a.phone === JUNE);
  const companions = june.devices.filter((d) => d.jid.includes(':'));
  assert.equal(companions.length, 1, `one companion registered: ${JSON.stringify(june.devices)}`);
  // The QR code's client type and the device props agree with the browser (headless Chromium).
  assert.equal(companions[0].clientType, 1);
  assert.equal(companions[0].platformType, 'CHROME');
  await page.evaluate(() => window.clients.june.logout());
});

test('after a reload, a stored but unconfirmed device is recognised as such', async () => {
  let from = await eventCount(page, 'june');
  // Close the client as soon as pairing succeeds, as a crash would: it
  // never reaches the server again before the reload.
  await page.evaluate(() => {
    const c = window.clients.june;
    c.once('authenticated', () => { window.destroyed = c.destroy(); });
    return c.connect();
  });
  await scanLosingConfirmation(from);
  await page.evaluate(() => window.destroyed);
  await page.reload();
  await page.waitForFunction(() => window.harnessReady === true);
  await page.evaluate((o) => window.create('june', o), options());
  assert.ok(await page.evaluate(() => window.clients.june.getCreds().registered), 'the device was stored');
  await page.evaluate(() => window.clients.june.connect());
  const qr = await expectStartOver(0);
  from = await eventCount(page, 'june');
  await fakewa.api('POST', `/api/accounts/${JUNE}/scan`, { qr: qr.payload.code });
  await waitEvent(page, 'june', 'ready', { from });
  const evs = await page.evaluate(() => window.events.june.map((e) => e.name));
  assert.ok(!evs.includes('error'), `no error events: ${evs}`);
});
