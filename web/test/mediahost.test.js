// fakewa's media host seen from a page on another origin (issue 12): with
// mediaCORS off a direct fetch of a blob is blocked by the browser; with it
// on, the blob is readable, and an upload's preflight passes (the upload
// itself is then refused for its made-up auth, a status the page can read).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser } from '../test-support/e2e.js';

const SENDER = '15550012001';
const RECEIVER = '15550012002';

let server, fakewa, browser, page;

before(async () => {
  [server, fakewa, browser] = await Promise.all([startStatic(), startFakewa(), launchBrowser()]);
  for (const phone of [SENDER, RECEIVER]) await fakewa.api('POST', '/api/accounts', { phone, pushName: phone });
  page = await browser.newPage();
  await page.goto(server.url + '/'); // any page of the static server: its origin is what counts
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

// What the page gets: {ok, status, size} or {error}.
const pageFetch = (url, init) => page.evaluate(async ([u, i]) => {
  try {
    const r = await fetch(u, i);
    return { ok: r.ok, status: r.status, size: (await r.arrayBuffer()).byteLength };
  } catch (e) {
    return { error: String(e) };
  }
}, [url, init]);

test('blobs are readable from another origin only with mediaCORS', async () => {
  const data = Buffer.from('a photo of the sea').toString('base64');
  const { directPath } = await fakewa.api('POST', `/api/accounts/${SENDER}/send-media`, { to: RECEIVER, type: 'image', data, mimetype: 'image/jpeg' });
  const blob = (await fakewa.api('GET', '/api/media')).find((b) => b.directPath === directPath);
  assert.ok(blob, 'the blob is listed');
  const url = fakewa.baseURL + directPath + '&mms-type=image&__wa-mms=';
  const upload = fakewa.baseURL + '/mms/image/abc?auth=made-up&token=abc';
  const uploadInit = { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' };

  await fakewa.api('POST', '/api/settings', { mediaCORS: false });
  assert.match((await pageFetch(url)).error || '', /fetch/i, 'no CORS headers: the browser blocks the read');
  assert.match((await pageFetch(upload, uploadInit)).error || '', /fetch/i, 'no CORS: the preflight fails');

  await fakewa.api('POST', '/api/settings', { mediaCORS: true });
  assert.deepEqual(await pageFetch(url), { ok: true, status: 200, size: blob.size });
  const refused = await pageFetch(upload, uploadInit);
  assert.equal(refused.status, 401, `preflight passes; the made-up auth is refused: ${JSON.stringify(refused)}`);
});
