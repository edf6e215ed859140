// exportSession({passphrase}) and importSession(..., {passphrase}): the
// sealed snapshot's header, a round trip into a new local session that logs
// in with no QR, and the coded refusals (wrong or missing passphrase,
// altered bytes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, events, pairByQR } from '../test-support/e2e.js';

let server, fakewa, browser;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const SEALER = '15550000321';

test('a sealed snapshot round-trips with its passphrase and is refused, coded, without it or altered', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: SEALER, pushName: 'Sealer' });
  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  await page.evaluate(() => window.create('src', { logLevel: 'error', auth: { strategy: 'local', clientId: 'src' } }));
  await pairByQR(fakewa, page, 'src', SEALER);
  const t0 = Date.now();
  const sealed = await page.evaluate(async () => Array.from(await window.clients.src.exportSession({ passphrase: 'correct horse battery staple caf\u00e9' })));
  const sealMs = Date.now() - t0;
  const plain = await page.evaluate(async () => Array.from(await window.clients.src.exportSession()));
  // A passphrase of the wrong type is named by its type, never echoed.
  const numericExport = await page.evaluate(async () => {
    try { await window.clients.src.exportSession({ passphrase: 918273645 }); return 'exported'; } catch (e) { return e.message; }
  });
  assert.ok(!numericExport.includes('918273645') && /a number/.test(numericExport), numericExport);
  await page.evaluate(() => window.clients.src.destroy());

  // Header: "WMSEAL", version 2, KDF 1 (PBKDF2-SHA256 split by HKDF), 600000 iterations (big-endian).
  assert.equal(Buffer.from(sealed.slice(0, 6)).toString(), 'WMSEAL');
  assert.deepEqual(sealed.slice(6, 8), [2, 1]);
  assert.equal(Buffer.from(sealed.slice(8, 12)).readUInt32BE(0), 600000);
  assert.equal(plain[0], 0x1f, 'the plain snapshot is gzip');
  const body = Buffer.from(sealed.slice(72));
  assert.ok(!body.includes(Buffer.from(plain.slice(10, 40))), 'the sealed bytes do not carry the snapshot in the clear');

  // form: how the bytes are given ('Uint8Array', 'ArrayBuffer' or 'DataView').
  const tryImport = (id, bytes, options, form = 'Uint8Array') => page.evaluate(async ([i, b, o, f]) => {
    const u8 = new Uint8Array(b);
    const data = f === 'ArrayBuffer' ? u8.buffer : f === 'DataView' ? new DataView(u8.buffer) : u8;
    try { await window.wm.importSession(i, data, o); return { ok: true }; } catch (e) { return { code: e.code, message: e.message }; }
  }, [id, bytes, options, form]);

  const wrong = await tryImport('dst', sealed, { passphrase: 'wrong horse' });
  assert.equal(wrong.code, 'wrong_passphrase', JSON.stringify(wrong));
  // A sealed snapshot is one in every form importSession takes.
  for (const form of ['ArrayBuffer', 'DataView']) {
    const r = await tryImport('dst', sealed, { passphrase: 'wrong horse' }, form);
    assert.equal(r.code, 'wrong_passphrase', `${form}: ${JSON.stringify(r)}`);
    const none = await tryImport('dst', sealed, undefined, form);
    assert.equal(none.code, 'wrong_passphrase', `${form} with no passphrase: ${JSON.stringify(none)}`);
  }
  // A passphrase of the wrong type is named by its type, never echoed.
  const numeric = await tryImport('dst', sealed, { passphrase: 918273645 });
  assert.equal(numeric.code, 'invalid_option', JSON.stringify(numeric));
  assert.ok(!numeric.message.includes('918273645') && /a number/.test(numeric.message), numeric.message);
  const missing = await tryImport('dst', sealed, undefined);
  assert.equal(missing.code, 'wrong_passphrase', JSON.stringify(missing));
  assert.match(missing.message, /sealed/);
  const altered = [...sealed];
  altered[altered.length - 20] ^= 1;
  const tampered = await tryImport('dst', altered, { passphrase: 'correct horse battery staple caf\u00e9' });
  assert.equal(tampered.code, 'restore_failed', JSON.stringify(tampered));
  assert.match(tampered.message, /altered/);
  const badVersion = [...sealed];
  badVersion[6] = 9;
  assert.equal((await tryImport('dst', badVersion, { passphrase: 'x' })).code, 'restore_failed');
  badVersion[6] = 1;
  assert.match((await tryImport('dst', badVersion, { passphrase: 'x' })).message, /version 1.*export the session again/);
  const greedy = [...sealed];
  greedy.splice(8, 4, 0xff, 0xff, 0xff, 0xff);
  assert.match((await tryImport('dst', greedy, { passphrase: 'x' })).message, /iterations/);
  assert.equal((await tryImport('dst', plain, { passphrase: 'x' })).code, 'restore_failed', 'a passphrase for an unsealed snapshot');
  assert.deepEqual(await page.evaluate(() => window.wm.listSessions()), ['src'], 'no refused import left a session');

  // The passphrase in another Unicode form (e + combining acute) is the same passphrase.
  assert.deepEqual(await tryImport('dst', sealed, { passphrase: 'correct horse battery staple cafe\u0301' }, 'DataView'), { ok: true });
  await page.evaluate(() => window.create('dst', { logLevel: 'error', auth: { strategy: 'local', clientId: 'dst' } }));
  await page.evaluate(() => window.clients.dst.connect());
  await waitEvent(page, 'dst', 'ready');
  assert.ok(!(await events(page, 'dst')).includes('qr'));
  console.log(`sealing took ${sealMs} ms (PBKDF2 600000 iterations in WebCrypto)`);
  await ctx.close();
});
