// The relay's media proxy seen from a page (issue 12): with fakewa's
// mediaCORS off, a page on another origin cannot read a blob from the media
// host directly, and reads it through the relay (/media/<host>/<path>, the
// URL shape docs/RELAY.md describes); an upload from the page goes through
// the relay too (preflight included). The relay reaches fakewa for every
// media host name (-media-dial), as tests point the WebSocket at it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startStatic, startFakewa, startRelay, launchBrowser } from '../test-support/e2e.js';

const SENDER = '15550013001';
const RECEIVER = '15550013002';

let server, fakewa, relay, strictRelay, browser, page, media, strictMedia;

// The media proxy URL of a relay started by startRelay.
const mediaBase = (r) => r.socketURL.replace(/^ws/, 'http').replace(/\/ws\/chat$/, '/media/');

before(async () => {
  [server, fakewa, browser] = await Promise.all([startStatic(), startFakewa(), launchBrowser()]);
  for (const phone of [SENDER, RECEIVER]) await fakewa.api('POST', '/api/accounts', { phone, pushName: phone });
  await fakewa.api('POST', '/api/settings', { mediaCORS: false });
  const dial = new URL(fakewa.baseURL).host;
  [relay, strictRelay] = await Promise.all([
    startRelay(['-upstream', fakewa.wsURL, '-allow-origin', '127.0.0.1:*', '-media-dial', dial]),
    startRelay(['-upstream', fakewa.wsURL, '-media-dial', dial]), // serves its own pages only
  ]);
  media = mediaBase(relay);
  strictMedia = mediaBase(strictRelay);
  page = await browser.newPage();
  await page.goto(server.url + '/'); // any page of the static server: its origin is what counts
});

after(async () => {
  await browser?.close();
  await relay?.close();
  await strictRelay?.close();
  await fakewa?.close();
  await server?.close();
});

// What the page gets: {status, sha256, size, text} or {error}.
const pageFetch = (url, init) => page.evaluate(async ([u, i]) => {
  try {
    if (i?.bodyBase64) i = { ...i, body: Uint8Array.from(atob(i.bodyBase64), (c) => c.charCodeAt(0)), bodyBase64: undefined };
    const r = await fetch(u, i);
    const buf = await r.arrayBuffer();
    const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))].map((b) => b.toString(16).padStart(2, '0')).join('');
    return { status: r.status, sha256: hex, size: buf.byteLength, text: new TextDecoder().decode(buf.slice(0, 4000)) };
  } catch (e) {
    return { error: String(e) };
  }
}, [url, init]);

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// A phone's image, and what its blob is (fetched from node, where no CORS applies).
async function phoneImage() {
  const data = randomBytes(40000).toString('base64');
  const { directPath } = await fakewa.api('POST', `/api/accounts/${SENDER}/send-media`, { to: RECEIVER, type: 'image', data, mimetype: 'image/jpeg' });
  const blob = Buffer.from(await (await fetch(fakewa.baseURL + directPath)).arrayBuffer());
  assert.ok(blob.length > 40000, `the encrypted blob is served to node: ${blob.length} bytes`);
  return { directPath, blob };
}

test('a blob the page cannot fetch directly arrives through the relay, byte for byte', async () => {
  const { directPath, blob } = await phoneImage();
  const query = '&hash=x&mms-type=image&__wa-mms='; // what whatsmeow appends (download.go)
  const direct = await pageFetch(fakewa.baseURL + directPath + query);
  assert.match(direct.error || '', /fetch/i, `mediaCORS off: the browser blocks the direct read: ${JSON.stringify(direct)}`);

  // https://mmg.whatsapp.net<directPath>... rewritten to the relay's shape.
  const viaRelay = await pageFetch(media + 'mmg.whatsapp.net' + directPath + query);
  assert.deepEqual(viaRelay.error, undefined);
  assert.equal(viaRelay.status, 200);
  assert.equal(viaRelay.size, blob.length);
  assert.equal(viaRelay.sha256, sha256(blob), 'the page read the blob fakewa stores');
});

test('an upload from the page goes through the relay and downloads again', async () => {
  const { auth, host } = await fakewa.api('POST', '/api/media/auth');
  const data = randomBytes(30000);
  // token: base64url (padded) SHA-256 of the body, in path and query (whatsmeow upload.go).
  const token = createHash('sha256').update(data).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
  const path = `/mms/document/${token}?auth=${encodeURIComponent(auth)}&token=${encodeURIComponent(token)}`;
  // application/octet-stream is not a simple type: the browser sends a preflight first.
  const init = { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, bodyBase64: data.toString('base64') };

  const direct = await pageFetch(fakewa.baseURL + path, init);
  assert.match(direct.error || '', /fetch/i, `mediaCORS off: the direct upload's preflight fails: ${JSON.stringify(direct)}`);

  const up = await pageFetch(media + host + path, init);
  assert.equal(up.status, 200, `upload through the relay: ${JSON.stringify(up)}`);
  const { direct_path: directPath, url } = JSON.parse(up.text);
  assert.match(directPath, /^\/v\/t62\.7119-24\//);
  assert.ok(url.startsWith(`https://${host}/v/`), url);
  const stored = (await fakewa.api('GET', '/api/media')).find((b) => b.directPath === directPath);
  assert.equal(stored?.size, data.length, 'fakewa stored the whole upload');

  const back = await pageFetch(media + host + directPath + '&mms-type=document&__wa-mms=');
  assert.equal(back.status, 200);
  assert.equal(back.sha256, sha256(data), 'the upload downloads again as sent');
});

test('the relay refuses other hosts, pages it does not serve, and passes blob failures on', async () => {
  const other = await pageFetch(media + 'example.com/v/x');
  assert.equal(other.status, 403, JSON.stringify(other));
  assert.match(other.text, /"example\.com" is not a media host/);

  const { directPath, blob } = await phoneImage();
  const strict = await pageFetch(strictMedia + 'mmg.whatsapp.net' + directPath);
  assert.match(strict.error || '', /fetch/i, `a relay without -allow-origin gives this page no CORS headers: ${JSON.stringify(strict)}`);

  await fakewa.api('POST', '/api/media/fail', { directPath, mode: '404' });
  const failed = await pageFetch(media + 'mmg.whatsapp.net' + directPath);
  assert.equal(failed.status, 404, `the media host's status reaches the page: ${JSON.stringify(failed)}`);
  await fakewa.api('POST', '/api/media/fail', { directPath, mode: '' });
  const healed = await pageFetch(media + 'mmg.whatsapp.net' + directPath);
  assert.equal(healed.sha256, sha256(blob));
});
