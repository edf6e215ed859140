// Baileys (npm `baileys`, pinned in package.json) as an independent client of
// fakewa: a client that shares no code with whatsmeow, so it catches what
// fakewa and whatsmeow might get wrong together. Node only.
import makeWASocket, { useMultiFileAuthState, makeCacheableSignalKeyStore, WA_CERT_DETAILS, DisconnectReason, downloadMediaMessage } from 'baileys';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import net from 'node:net';

// libsignal-node (Baileys' Signal library) writes its session bookkeeping,
// private keys included, to the console ("Closing session: SessionEntry
// {...}"); keep those lines out of the test output, and nothing else.
const LIBSIGNAL_CHATTER = /^(Closing session|Opening session|Removing old closed session|Migrating session|Closing open session|Closing stale open session|Session already|Decrypted message with closed session)/;
for (const level of ['info', 'warn', 'log']) {
  const write = console[level].bind(console);
  console[level] = (first, ...rest) => {
    if (typeof first === 'string' && LIBSIGNAL_CHATTER.test(first)) return;
    write(first, ...rest);
  };
}

/**
 * Makes Baileys trust fakewa's root key. Baileys' noise handler
 * (lib/Utils/noise-handler.js processHandshake) verifies the intermediate
 * certificate against WA_CERT_DETAILS.PUBLIC_KEY, the real service's root key,
 * read at each handshake from that exported object; nothing but the real
 * service holds the matching private key, so a double can only be trusted by
 * swapping the key, as wasmeow's trustRootKey and whatsmeow's WACertPubKey do.
 * The rest of the check (issuer serial 0, both XEdDSA signatures) fakewa passes.
 */
export function trustRootKey(rootKeyBase64) {
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(rootKeyBase64, 'base64');
}

/**
 * A fetch dispatcher that sends requests for the service's hosts
 * (*.whatsapp.net: media hosts mmg*, pictures pps) to fakewa's plain HTTP
 * listener, which serves every host name; other requests go out as usual.
 * Baileys passes it to fetch for media, history and app-state downloads
 * (config.options.dispatcher, downloadMediaMessage's options.dispatcher).
 * It forwards to Node's own global dispatcher (the undici fetch uses), so the
 * handler protocol always matches.
 */
export function fakewaDispatcher(baseURL) {
  const target = new URL(baseURL).origin;
  return {
    dispatch(opts, handler) {
      // Installed by Node's undici when fetch first runs, so there by now.
      const global = globalThis[Symbol.for('undici.globalDispatcher.1')];
      if (!global) throw new Error('fakewaDispatcher: no global fetch dispatcher (is this Node 18+?)');
      const host = new URL(opts.origin).hostname;
      const ours = host === 'whatsapp.net' || host.endsWith('.whatsapp.net');
      return global.dispatch(ours ? { ...opts, origin: target } : opts, handler);
    },
    close: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
  };
}

/**
 * The same for Baileys' uploads, which in Node go through node:https with
 * config.fetchAgent (lib/Utils/messages-media.js uploadWithNodeHttp): an
 * https agent whose connections are plain TCP to fakewa's listener, so the
 * https:// upload URL on a media host reaches fakewa unencrypted.
 */
export function fakewaUploadAgent(baseURL) {
  const { hostname, port } = new URL(baseURL);
  const agent = new https.Agent();
  agent.createConnection = () => net.connect(Number(port), hostname);
  return agent;
}

/**
 * Starts a Baileys socket on fakewa with its auth state in dir (files of
 * useMultiFileAuthState; a new temp dir if none). Every event is recorded in
 * client.events ([{name, data}]); a 515 "restart required" (sent after
 * pairing) or a lost socket starts a new socket on the same state, as
 * Baileys' README tells users to. client.stop() ends it for good.
 * cacheKeys: the key store behind Baileys' own memory cache
 * (makeCacheableSignalKeyStore), as its README suggests for speed.
 */
export async function startBaileys(fakewa, { dir, onQR, cacheKeys = false, logLevel = process.env.BAILEYS_LOG || 'silent' } = {}) {
  trustRootKey(fakewa.rootKey);
  dir ??= mkdtempSync(join(tmpdir(), 'wasmeow-baileys-'));
  const { state, saveCreds } = await useMultiFileAuthState(dir);
  const logger = pino({ level: logLevel });
  const auth = cacheKeys ? { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, logger) } : state;
  const dispatcher = fakewaDispatcher(fakewa.baseURL);
  const uploadAgent = fakewaUploadAgent(fakewa.baseURL);
  const client = { dir, state, events: [], receipts: [], sent: new Map(), sock: null, sockets: 0, stopped: false, dispatcher, logger };
  const open = () => {
    client.sockets++;
    const sock = makeWASocket({
      waWebSocketUrl: fakewa.wsURL,
      auth,
      logger,
      options: { dispatcher },
      fetchAgent: uploadAgent,
      // Off by default in Baileys; on here, so fakewa's app-state MACs are
      // checked by a second implementation (Baileys' lt-hash.js and chat-utils.js).
      appStateMacVerification: { patch: true, snapshot: true },
      markOnlineOnConnect: false,
      // A message store, as Baileys' README asks for: a retry receipt that
      // names the peer by LID misses Baileys' own recent-message cache, which
      // keeps a message under the PN it was sent to. client.send fills it as
      // sendMessage resolves (not from the event stream: Baileys holds that
      // event while it handles the receipt); a quick retry receipt may still
      // come first, so wait a little.
      getMessage: async (key) => {
        for (let i = 0; i < 40 && !client.sent.has(key.id); i++) await new Promise((r) => setTimeout(r, 50));
        return client.sent.get(key.id);
      },
    });
    client.sock = sock;
    // Receipts as they arrive, before Baileys' event buffer (which can hold
    // message-receipt.update while it handles other stanzas).
    sock.ws.on('CB:receipt', (node) => client.receipts.push(node.attrs));
    sock.ev.on('creds.update', saveCreds);
    sock.ev.process(async (evs) => {
      for (const [name, data] of Object.entries(evs)) {
        client.events.push({ name, data, socket: client.sockets });
        if (name !== 'connection.update') continue;
        if (data.qr && onQR) await onQR(data.qr);
        if (data.connection === 'close' && !client.stopped && sock === client.sock) {
          const code = data.lastDisconnect?.error?.output?.statusCode;
          if (code === DisconnectReason.restartRequired) open();
          else if (code !== DisconnectReason.loggedOut) setTimeout(() => { if (!client.stopped) open(); }, 500);
        }
      }
    });
  };
  open();
  client.stop = async ({ keepDir = false } = {}) => {
    if (client.stopped) return;
    client.stopped = true;
    // Closing the websocket, not sock.end(): end() drops the socket's close
    // listeners first, so queries in flight would keep their 60 s timers
    // (and this process) alive; a closed socket rejects them and then ends.
    await client.sock?.ws.close();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  /** sock.sendMessage, keeping what was sent for getMessage (retry receipts). */
  client.send = async (to, content, opts) => {
    const m = await client.sock.sendMessage(to, content, opts);
    client.sent.set(m.key.id, m.message);
    return m;
  };
  /** Every contact Baileys reported, by id (app-state contacts may come inside a history set). */
  client.contacts = () => {
    const all = new Map();
    for (const { name, data } of client.events) {
      const list = name === 'contacts.upsert' || name === 'contacts.update' ? data : name === 'messaging-history.set' ? data.contacts : [];
      for (const c of list) all.set(c.id, { ...all.get(c.id), ...c });
    }
    return all;
  };
  /**
   * Resolves with the data of the first event `name` past index `from` that
   * pred accepts. The default wait outlasts the 30 s after which Baileys'
   * event buffer flushes whatever it holds (lib/Utils/event-buffer.js).
   */
  client.waitFor = async (name, pred = () => true, { from = 0, timeout = 35000 } = {}) => {
    const end = Date.now() + timeout;
    for (;;) {
      const ev = client.events.slice(from).find((e) => e.name === name && pred(e.data));
      if (ev) return ev.data;
      if (Date.now() > end) throw new Error(`Baileys never emitted a matching ${name}; got ${client.events.map((e) => e.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Resolves with the attributes of every receipt pred accepts, once there are count of them. */
  client.waitReceipts = async (pred, count, timeout = 20000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const got = client.receipts.filter(pred);
      if (got.length >= count) return got;
      if (Date.now() > end) throw new Error(`Baileys got ${got.length} of ${count} matching receipts: ${JSON.stringify(client.receipts.slice(-10))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Resolves with the first upserted message past `from` that pred accepts. */
  client.waitMessage = async (pred, opts) => {
    const up = await client.waitFor('messages.upsert', (d) => d.messages.some(pred), opts);
    return up.messages.find(pred);
  };
  /** The bytes of a received media message, fetched and decrypted by Baileys. */
  client.download = (msg) => downloadMediaMessage(msg, 'buffer', { options: { dispatcher } },
    { logger, reuploadRequest: client.sock.updateMediaMessage });
  return client;
}

/** The text of a Baileys message, whichever of the two text forms it came in. */
export const textOf = (m) => m?.message?.conversation ?? m?.message?.extendedTextMessage?.text;
