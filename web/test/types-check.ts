// Compiled with tsc --noEmit by types.test.js: the README's usage must
// type-check against wasmeow.d.ts, and misuse must not.
import { loadWasmeow, type Client, type Events, WasmeowError, httpKeyStore, httpRemoteStore, SessionServiceError, SEAL_ITERATIONS } from '../wasmeow.js';

async function main(): Promise<void> {
  const wm = await loadWasmeow({ socketURL: 'ws://127.0.0.1:8090/ws/chat', trustRootKey: new Uint8Array(32) });
  const client: Client = await wm.createClient({
    auth: { strategy: 'local', clientId: 'work' },
    deviceName: 'My app',
    logLevel: 'warn',
  });
  client.on('qr', ({ code }) => console.log(code.length));
  client.on('message', (m: Events['message']) => console.log(m.sender, m.text, m.time + 1));
  client.on('logged_out', ({ reason }) => console.log(reason));
  client.on('error', (e) => console.log(e.code));
  await client.connect();
  const ready = await client.waitFor('ready', 60_000);
  console.log(ready.me, client.state, client.getCreds().registered);
  const id: string = await client.sendText('15551234567@s.whatsapp.net', 'hi');
  const code: string = await client.requestPairingCode('+1 555 123 4567');
  console.log(id, code, await wm.listSessions({ dbName: 'wasmeow' }));
  const backup: Uint8Array = await client.exportSession();
  await wm.importSession('copy', backup, { dbName: 'wasmeow' });
  const baileys = await client.exportBaileysSession();
  const moved = await wm.importBaileysSession('moved', { files: baileys.files });
  console.log(moved.device, moved.dropped.length, baileys.keys['session'], baileys.creds.noiseKey.private,
    (await wm.importBaileysSession('m2', { creds: baileys.creds, keys: baileys.keys })).counts);
  const sealed = await client.exportSession({ passphrase: 'correct horse battery staple' });
  await wm.importSession('copy2', sealed, { passphrase: 'correct horse battery staple' });
  const remote = await wm.createClient({
    auth: {
      strategy: 'remote', clientId: 'r', backupSyncIntervalMs: 300_000,
      store: {
        sessionExists: async () => false,
        save: async ({ session, data }) => console.log(session, data.byteLength),
        extract: async () => new Uint8Array(),
        delete: async () => {},
      },
    },
  });
  remote.on('remote_session_saved', (s) => console.log(s.bytes, s.version));
  const map = new Map<string, Uint8Array>();
  await wm.createClient({
    auth: {
      strategy: 'custom',
      keys: {
        get: (type, ids) => Object.fromEntries(ids.map((id) => [id, map.get(`${type}/${id}`)])),
        set: (data) => { for (const t in data) for (const id in data[t]) { const v = data[t][id]; if (v) map.set(`${t}/${id}`, v); else map.delete(`${t}/${id}`); } },
        clear: () => map.clear(),
      },
      creds: { load: () => null, save: () => {} },
    },
  });
  // Baileys' own flow: an AuthenticationState and its saveCreds.
  const docs = new Map<string, string>();
  const state = {
    creds: {},
    keys: {
      get: async (type: string, ids: string[]) => Object.fromEntries(ids.map((id) => [id, JSON.parse(docs.get(`${type}-${id}`) ?? 'null')])),
      set: async (data: Record<string, Record<string, unknown>>) => { for (const t in data) for (const id in data[t]) docs.set(`${t}-${id}`, JSON.stringify(data[t][id])); },
    },
  };
  await wm.createClient({ auth: { strategy: 'custom', state, saveCreds: async () => { docs.set('creds', JSON.stringify(state.creds)); } } });
  try { await client.logout(); } catch (e) { if (e instanceof WasmeowError) console.log(e.code); }
  // A code keeps its literal members (what editors complete), and any other string is allowed.
  const known: Extract<WasmeowError['code'], 'timeout'> = 'timeout';
  const foreign: WasmeowError['code'] = 'ECONNRESET';
  console.log(known, foreign);
  // Reasons are unions: a switch can cover them, and a reason Go never gives is an error.
  client.on('disconnected', ({ reason }) => {
    switch (reason) {
      case 'client': case 'connection_lost': case 'keepalive_timeout': case 'replaced': case 'qr_timeout':
      case 'store_failed': case 'client_outdated': case 'temporary_ban': case 'connect_failure': return;
      default: { const none: never = reason; console.log(none); }
    }
  });
  client.on('logged_out', ({ reason }) => { if (reason.startsWith('server_logout:')) console.log(reason.slice(14)); });
  const why: Events['logged_out']['reason'] = 'server_logout:logged out from another device';
  console.log(why);
  // @ts-expect-error: not a reason of auth_failure
  client.on('auth_failure', ({ reason }) => reason === 'qr_expired');
  // @ts-expect-error: not a reason of logged_out
  const notWhy: Events['logged_out']['reason'] = 'server_out';
  // @ts-expect-error: an unknown strategy
  await wm.createClient({ auth: { strategy: 'cloud' } });
  // @ts-expect-error: remote needs a store
  await wm.createClient({ auth: { strategy: 'remote' } });
  // @ts-expect-error: socketURL is page-wide (loadWasmeow's), not a client's
  await wm.createClient({ socketURL: 'ws://127.0.0.1:8090/ws/chat' });
  // @ts-expect-error: listSessions is the module's, not a client's
  await client.listSessions();
  // @ts-expect-error: no such event
  client.on('qr_code', () => {});
  // @ts-expect-error: importSession takes the snapshot's bytes, not a string
  await wm.importSession('copy', 'c25hcHNob3Q=');
  // @ts-expect-error: a Baileys state is {creds, keys} or {files}
  await wm.importBaileysSession('copy', { creds: {} });
  // @ts-expect-error: the passphrase is a string
  await client.exportSession({ passphrase: 42 });
  // @ts-expect-error: Baileys' flow needs saveCreds
  await wm.createClient({ auth: { strategy: 'custom', state } });
  // @ts-expect-error: creds carry no key material
  console.log(client.getCreds().noiseKey);
  console.log(notWhy);
  // Message types: a union on type; sendMessage in Baileys' shapes.
  client.on('message', async (m) => {
    if (m.type === 'reaction') console.log(m.reaction.key.id, m.reaction.text);
    if (m.type === 'poll') console.log(m.poll.options.join());
    if (m.type === 'poll_vote') console.log(m.pollVote.selectedOptions?.join(), m.pollVote.selectedHashes.length);
    const key = await client.sendMessage(m.chat, { text: 'seen', quoted: m });
    await client.sendMessage(m.chat, { react: { key: m.key, text: '👍' } });
    await client.sendMessage(m.chat, { edit: key, text: 'seen!' });
    await client.sendMessage(m.chat, { poll: { name: 'Lunch?', options: ['yes', 'no'] } });
    if (m.type === 'poll') await client.sendMessage(m.chat, { vote: { key: m.key, options: ['yes'] } });
    // @ts-expect-error: a text message has no reaction field
    if (m.type === 'text') console.log(m.reaction);
  });
  client.on('receipt', ({ type, ids }) => console.log(type === 'read', ids.length));
  client.on('group.update', (u) => console.log(u.added?.length, u.info?.participants.length));
  const g = await client.createGroup('Team', ['15551234567']);
  await client.updateGroupParticipants(g.jid, 'add', ['15557654321']);
  // @ts-expect-error: not an action
  await client.updateGroupParticipants(g.jid, 'kick', ['15557654321']);
  // @ts-expect-error: not a chat state
  await client.sendChatPresence(g.jid, 'typing');
  // @ts-expect-error: one kind of content at a time has its own keys
  await client.sendMessage(g.jid, { location: { degreesLatitude: 1 } });
  await fleet(wm);
}

// The session service's stores (docs/FLEET.md).
async function fleet(wm: Awaited<ReturnType<typeof loadWasmeow>>): Promise<void> {
  const keys = httpKeyStore({ url: 'https://sessions.example.com', token: 'wmt_x', session: 'alice', holder: 'host-3', leaseTtlMs: 15_000,
    encryption: { passphrase: 'correct horse battery staple', iterations: SEAL_ITERATIONS }, onLeaseLost: (e) => console.log(e.holder, e.code) });
  try {
    const lease = await keys.acquire();
    console.log(lease.fence, lease.holder, keys.lease?.expiresAt);
  } catch (e) {
    if (e instanceof SessionServiceError && e.code === 'session_locked') console.log(e.holder, e.expiresAt, e.status);
  }
  const c = await wm.createClient({ auth: { strategy: 'custom', clientId: 'alice', keys, creds: keys.creds } });
  await c.destroy();
  await keys.release();
  const store = httpRemoteStore({ url: new URL('https://sessions.example.com'), token: 'wmt_x', encryption: { key: new Uint8Array(32) } });
  await wm.createClient({ auth: { strategy: 'remote', clientId: 'bob', store } });
  await store.acquire('bob', { takeover: true });
  console.log(store.lease('bob')?.fence);
  // @ts-expect-error: a key store is for one session
  httpKeyStore({ url: 'https://sessions.example.com', token: 'wmt_x' });
  // @ts-expect-error: the token is required
  httpRemoteStore({ url: 'https://sessions.example.com' });
  // @ts-expect-error: encryption takes a key or a passphrase
  httpRemoteStore({ url: 'https://sessions.example.com', token: 't', encryption: { password: 'x' } });
}
void main;
