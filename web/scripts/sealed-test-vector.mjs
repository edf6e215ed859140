#!/usr/bin/env node
// Writes wasm/snapshot/testdata/sealed-by-wasmeow-js.bin, the test vector of
// the sealed snapshot format: a fakewa test account paired in a page, its
// session exported with exportSession({passphrase: 'wasmeow test vector'})
// by web/wasmeow.js. wasm/snapshot's TestSealedByThePageOpensNatively opens
// it with the Go implementation. Run it again when the sealed format
// changes, after `make wasm`, from web/: node scripts/sealed-test-vector.mjs
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, pairByQR, repoDir } from '../test-support/e2e.js';

const PHONE = '15550000399';
const out = join(repoDir, 'wasm/snapshot/testdata/sealed-by-wasmeow-js.bin');
const [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
const browser = await launchBrowser();
try {
  await fakewa.api('POST', '/api/accounts', { phone: PHONE, pushName: 'Vector' });
  const page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  await page.evaluate(() => window.create('v', { logLevel: 'error', auth: { strategy: 'local', clientId: 'v' } }));
  await pairByQR(fakewa, page, 'v', PHONE);
  const sealed = await page.evaluate(async () => Array.from(await window.clients.v.exportSession({ passphrase: 'wasmeow test vector' })));
  writeFileSync(out, Buffer.from(sealed));
  console.log(`${out}: ${sealed.length} bytes, version ${sealed[6]}`);
} finally {
  await browser.close();
  await fakewa.close();
  await server.close();
}
