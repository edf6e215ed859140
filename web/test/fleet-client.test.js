// httpKeyStore and httpRemoteStore in node (fetch and WebCrypto as in a
// page) against scripted HTTP answers: retries with backoff, the service's
// codes, the lease's renewals and loss, option checks, and sealing. The
// real service and browsers: fleet.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { httpKeyStore, httpRemoteStore, SessionServiceError } from '../wasmeow.js';

// A server answering each request with handler(req, body) -> [status, json|Buffer|undefined].
async function scripted(handler) {
  const calls = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    calls.push({ method: req.method, url: req.url, fence: req.headers['wasmeow-fence'], auth: req.headers.authorization, body });
    const [status, out] = await handler(req, body, calls.length);
    if (Buffer.isBuffer(out)) res.writeHead(status, { 'content-type': 'application/octet-stream' }).end(out);
    else if (out === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, calls, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const lease = (fence = 7) => [200, { holder: 'me', fence, expiresAt: Date.now() + 60000, held: true }];
const fast = { retryDelayMs: 1, maxRetryDelayMs: 5 };

test('writes carry the lease\'s fence and are retried through 503s; the service\'s codes come back as SessionServiceError', async () => {
  let fails = 2;
  const s = await scripted((req) => {
    if (req.url.endsWith('/lease')) return lease();
    if (req.url.endsWith('/keys/set') && fails-- > 0) return [503, { code: 'unavailable', message: 'db down' }];
    if (req.url.endsWith('/keys/clear')) return [409, { code: 'lease_lost', message: 'gone', holder: 'other', fence: 8 }];
    return [204];
  });
  try {
    const lost = [];
    const store = httpKeyStore({ url: s.url, token: 'tok', session: 'alice', holder: 'me', onLeaseLost: (e) => lost.push(e.holder), ...fast });
    await store.set({ session: { 'a\u0000b': new Uint8Array([1, 2]), gone: null } });
    const sets = s.calls.filter((c) => c.url.endsWith('/keys/set'));
    assert.equal(sets.length, 3, 'two 503s, then the write');
    assert.ok(sets.every((c) => c.fence === '7' && c.auth === 'Bearer tok'));
    const sent = JSON.parse(sets[2].body).data.session;
    assert.equal(sent.gone, null);
    // Each value is Baileys' BufferJSON text (what sessionconv reads), base64 on the wire.
    assert.deepEqual(JSON.parse(Buffer.from(sent['a\u0000b'], 'base64').toString()), { type: 'Buffer', data: 'AQI=' });
    const err = await store.clear().catch((e) => e);
    assert.ok(err instanceof SessionServiceError);
    assert.equal(err.code, 'lease_lost');
    assert.equal(err.holder, 'other');
    assert.equal(err.status, 409);
    assert.deepEqual(lost, ['other']);
    const n = s.calls.length;
    assert.equal((await store.set({ t: { i: new Uint8Array(1) } }).catch((e) => e)).code, 'lease_lost');
    assert.equal(s.calls.length, n, 'after a loss, writes fail without reaching the service');
    await store.release();
  } finally {
    await s.close();
  }
});

test('a service that cannot be reached fails with unavailable after the retries', async () => {
  const s = await scripted(() => lease());
  const url = s.url;
  await s.close(); // nothing listens there now
  const store = httpKeyStore({ url, token: 't', session: 's', retries: 3, ...fast });
  const err = await store.acquire().catch((e) => e);
  assert.equal(err.code, 'unavailable');
  assert.match(err.message, /cannot be reached after 4 attempts/);
});

test('session_locked names the holder; the lease is renewed and its loss reported', async () => {
  let renewals = 0;
  const s = await scripted((req, body) => {
    if (req.url.endsWith('/lease')) {
      return JSON.parse(body).takeover ? lease(3) : [409, { code: 'session_locked', message: 'held', holder: 'machine-a', fence: 2, expiresAt: 123 }];
    }
    if (req.url.endsWith('/lease/renew')) return ++renewals < 3 ? lease(3) : [409, { code: 'lease_lost', message: 'taken', holder: 'machine-c' }];
    return [204];
  });
  try {
    let lostTo = null;
    const store = httpKeyStore({ url: s.url, token: 't', session: 's', leaseTtlMs: 600, onLeaseLost: (e) => { lostTo = e.holder; }, ...fast });
    const locked = await store.acquire().catch((e) => e);
    assert.equal(locked.code, 'session_locked');
    assert.equal(locked.holder, 'machine-a');
    assert.equal(locked.expiresAt, 123);
    assert.equal(store.lease, null);
    assert.equal((await store.acquire({ takeover: true })).fence, 3);
    await new Promise((r) => setTimeout(r, 1000)); // renewals every 200 ms: two, then the loss
    assert.equal(renewals, 3);
    assert.equal(lostTo, 'machine-c');
    assert.equal(store.lease, null);
  } finally {
    await s.close();
  }
});

test('encryption: values, creds and snapshots leave the page sealed, names as HMACs, and come back', async () => {
  const kept = new Map();
  const s = await scripted((req, body) => {
    const path = req.url.replace(/\?.*/, '');
    if (path.endsWith('/lease')) return lease();
    if (path.endsWith('/keys/set')) { for (const [t, m] of Object.entries(JSON.parse(body).data)) for (const [i, v] of Object.entries(m)) kept.set(`${t}/${i}`, v); return [204]; }
    if (path.endsWith('/keys/get')) { const { type, ids } = JSON.parse(body); return [200, { values: Object.fromEntries(ids.filter((i) => kept.has(`${type}/${i}`)).map((i) => [i, kept.get(`${type}/${i}`)])) }]; }
    if (req.method === 'PUT') { kept.set(path, body); return [204]; }
    if (req.method === 'GET' && kept.has(path)) return [200, kept.get(path)];
    if (req.method === 'GET' && path.endsWith('/s2')) return [200, { snapshot: true }];
    return [req.method === 'GET' ? 204 : 200];
  });
  try {
    const enc = { encryption: { key: new Uint8Array(32).fill(7) } };
    const store = httpKeyStore({ url: s.url, token: 't', session: 'alice', ...enc });
    const secret = new TextEncoder().encode('identity key of 15551234567');
    await store.set({ identity: { '15551234567:1@s.whatsapp.net': secret } });
    await store.creds.save({ device: { '15551234567:1@s.whatsapp.net': secret } });
    const wire = JSON.stringify([...kept]);
    assert.ok(!wire.includes('15551234567') && !wire.includes('identity'), 'no id, type or value in the clear');
    for (const [k, v] of kept) {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v, 'base64');
      assert.equal(b.subarray(0, 4).toString(), 'wmE1', `${k} sealed`);
    }
    assert.deepEqual(await store.get('identity', ['15551234567:1@s.whatsapp.net', 'missing']), { '15551234567:1@s.whatsapp.net': secret });
    assert.deepEqual(await store.creds.load(), { device: { '15551234567:1@s.whatsapp.net': secret } });
    // Another key cannot open them; a passphrase-derived key is not the raw one either.
    const other = httpKeyStore({ url: s.url, token: 't', session: 'alice', encryption: { passphrase: 'correct horse battery', iterations: 100000 } });
    assert.deepEqual(await other.get('identity', ['15551234567:1@s.whatsapp.net']), {}, 'other names: nothing found');
    assert.equal((await other.creds.load().catch((e) => e)).code, 'decrypt_failed');
    // The remote strategy's snapshots: sealed, bound to their session.
    const remote = httpRemoteStore({ url: s.url, token: 't', ...enc });
    await remote.save({ session: 's1', data: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(await remote.extract({ session: 's1' }), new Uint8Array([1, 2, 3]));
    kept.set('/v1/sessions/s2/snapshot', kept.get('/v1/sessions/s1/snapshot'));
    assert.equal((await remote.extract({ session: 's2' }).catch((e) => e)).code, 'decrypt_failed', 'a snapshot moved to another session does not open');
    await Promise.all([store.release(), other.release(), remote.release('s1'), remote.release('s2')]);
  } finally {
    await s.close();
  }
});

test('bad options are refused with invalid_option', () => {
  const ok = { url: 'http://127.0.0.1:1', token: 't', session: 's' };
  for (const [o, re] of [
    [{ ...ok, url: 'not a url' }, /url/], [{ ...ok, token: '' }, /token/], [{ ...ok, session: 'a b' }, /session/],
    [{ ...ok, leaseTtlMs: 10 }, /leaseTtlMs/], [{ ...ok, retries: -1 }, /retries/], [{ ...ok, what: 1 }, /unknown option what/],
    [{ ...ok, encryption: { key: new Uint8Array(16) } }, /encryption/], [{ ...ok, encryption: { passphrase: 'short' } }, /encryption/],
    [{ ...ok, encryption: { passphrase: 'long enough', iterations: 1000 } }, /iterations/], [{ url: ok.url, token: 't' }, /session .*required/],
  ]) {
    assert.throws(() => httpKeyStore(o), (e) => e.code === 'invalid_option' && re.test(e.message), JSON.stringify(o));
  }
  assert.throws(() => httpRemoteStore(null), (e) => e.code === 'invalid_option');
});
