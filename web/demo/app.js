// The wasmeow demo page: sessions, linking (QR image or phone-number code),
// a timeline of events, a small chat (message types, images, receipt ticks,
// groups) and a backup download. No framework:
// one client at a time, the DOM updated by hand.
import { loadWasmeow } from '/wasmeow.js';
import qrcode from '/vendor/qrcode.mjs';
import { fromEvent, applyUpdate, raise, ticks, label } from '/demo/messages.js';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const n = Object.assign(document.createElement(tag), props);
  n.append(...children);
  return n;
};

// The simulated phone page listens here for the QR shown and the pairing code.
const channel = new BroadcastChannel('wasmeow-demo');

const state = {
  cfg: null,        // /config.json
  mod: null,        // the loaded wasmeow module
  client: null,     // the current client
  clientId: null,   // its session
  qr: null,         // the QR code on screen, if any
  pairingCode: null,
  status: 'idle',
  chats: new Map(), // chat JID -> messages (messages.js fromEvent)
  receipts: new Map(), // message id -> best receipt seen before the message was listed
  images: new Map(), // message id -> {url} | {error} | {loading: true}
  groups: [],       // getJoinedGroups()
};

function setStatus(status, text) {
  state.status = status;
  $('state').textContent = text ?? status;
  $('state-dot').className = 'dot ' + ({ connecting: 'connecting', ready: 'ready', failed: 'failed' }[status] ?? '');
  document.body.dataset.status = status;
  refreshButtons();
}

function refreshButtons() {
  const has = !!state.client;
  const ready = state.status === 'ready';
  const busy = state.status === 'connecting' || state.status === 'linking' || ready || state.status === 'authenticated';
  $('connect').disabled = !has || busy;
  $('disconnect').disabled = !has || !busy;
  $('logout').disabled = !has || !ready;
  $('send').disabled = !ready;
  $('pair-submit').disabled = !has || state.status !== 'linking';
  $('backup').disabled = !has || !backups.has(state.clientId);
}

function timeline(event, detail = '', bad = false) {
  const t = new Date().toLocaleTimeString([], { hour12: false });
  const li = el('li', { className: bad ? 'bad' : '' },
    el('span', { className: 't' }, t),
    el('span', { className: 'ev' }, event),
    el('span', { className: 'detail', title: detail }, detail));
  li.dataset.event = event;
  $('timeline').prepend(li);
}

function describe(payload) {
  if (payload == null) return '';
  if (typeof payload !== 'object') return String(payload);
  try {
    return JSON.stringify(payload, (k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
  } catch {
    return String(payload);
  }
}

function showError(id, err) {
  $(id).textContent = err ? (err.message ?? String(err)) : '';
  if (err) timeline('error', err.message ?? String(err), true);
}

// ---- QR and pairing code ------------------------------------------------

function showQR(code) {
  state.qr = code;
  const box = $('qr-box');
  box.replaceChildren();
  if (!code) {
    box.append(el('span', { className: 'muted' }, state.status === 'ready'
      ? 'Linked.' : 'Connect an unlinked session to see its QR code.'));
    $('qr-hint').textContent = '';
    channel.postMessage({ type: 'qr', code: null });
    return;
  }
  // Error correction L and automatic size, as WhatsApp's own page does.
  const qr = qrcode(0, 'L');
  qr.addData(code);
  qr.make();
  const img = el('img', { id: 'qr-image', alt: 'QR code to link this browser', src: qr.createDataURL(6, 12) });
  img.dataset.code = code;
  box.append(img);
  $('qr-hint').textContent = state.cfg?.mode === 'offline'
    ? 'The simulated phone page sees this code: press "Scan" there.'
    : 'WhatsApp on your phone → Linked devices → Link a device.';
  channel.postMessage({ type: 'qr', code });
}

function showLinked() {
  const box = $('qr-box');
  box.replaceChildren(el('span', { className: 'linked' }, '✓ Linked'),
    el('span', { className: 'muted' }, state.me ?? ''));
  $('qr-hint').textContent = '';
  channel.postMessage({ type: 'qr', code: null });
}

function showPairingCode(code) {
  state.pairingCode = code;
  const box = $('pair-code-box');
  box.replaceChildren(el('div', { className: 'code', id: 'pair-code' }, code ?? ''),
    el('div', { className: 'muted' }, 'Enter this code on the phone under Linked devices → Link with phone number.'));
  channel.postMessage({ type: 'pairing_code', code });
}

channel.onmessage = ({ data }) => {
  // A phone page that opens later asks for what is on screen.
  if (data?.type === 'hello') {
    channel.postMessage({ type: 'qr', code: state.qr });
    if (state.pairingCode) channel.postMessage({ type: 'pairing_code', code: state.pairingCode });
  }
};

// ---- chat ----------------------------------------------------------------

function chatJID() { return $('chat-to').value.trim(); }

function addMessage(chat, msg) {
  const list = state.chats.get(chat) ?? [];
  if (msg.id && list.some((m) => m.id === msg.id)) return;
  if (msg.out && state.receipts.has(msg.id)) msg.status = raise(msg.status, state.receipts.get(msg.id));
  list.push(msg);
  state.chats.set(chat, list);
  if (chat === chatJID() || (!chatJID() && !msg.out)) {
    if (!chatJID()) $('chat-to').value = chat;
    renderChat();
  }
  renderGroups();
}

function fmtTime(t) {
  return new Date(toMillis(t)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

function renderChat() {
  const chat = chatJID();
  const msgs = state.chats.get(chat) ?? [];
  const box = $('msgs');
  for (const li of $('groups').querySelectorAll('li[data-jid]')) li.classList.toggle('active', li.dataset.jid === chat);
  if (!msgs.length) {
    box.replaceChildren(el('div', { className: 'empty' }, 'No messages yet.'));
    return;
  }
  const isGroup = chat.endsWith('@g.us');
  box.replaceChildren(...msgs.map((m) => renderBubble(m, isGroup)));
  box.scrollTop = box.scrollHeight;
}

function renderBubble(m, isGroup) {
  const parts = [];
  if (isGroup && !m.out) parts.push(el('div', { className: 'from' }, m.pushName || userOf(m.sender)));
  const kind = label(m);
  if (kind) parts.push(el('div', { className: 'kind' }, kind + (m.detail ? `: ${m.detail}` : '')));
  const image = m.kind === 'image' && !m.deleted;
  if (image) parts.push(renderImage(m));
  if (m.options?.length) parts.push(el('ul', { className: 'poll' }, ...m.options.map((o) => el('li', {}, o))));
  const text = m.caption || m.text;
  if (text && !image) parts.push(el('div', { className: 'text' }, text));
  if (m.reactions.size) parts.push(el('div', { className: 'reactions' }, [...m.reactions.values()].join(' ')));
  const meta = el('div', { className: 'meta' }, (m.edited ? 'edited · ' : '') + fmtTime(m.time));
  if (m.out && m.status) {
    meta.append(el('span', { className: 'ticks ' + m.status, title: m.status }, ' ' + ticks(m.status)));
  }
  parts.push(meta);
  const b = el('div', { className: 'bubble' + (m.out ? ' out' : '') }, ...parts);
  b.dataset.id = m.id ?? '';
  b.dataset.type = m.kind;
  if (m.status) b.dataset.status = m.status;
  return b;
}

// An image: downloaded and decrypted by the client (downloadMedia), shown
// from an object URL; a placeholder with the caption until then, or with the
// error if it failed.
function renderImage(m) {
  const img = state.images.get(m.id) ?? startDownload(m);
  const caption = m.caption ? el('div', { className: 'text' }, m.caption) : '';
  if (img.url) {
    const pic = el('img', { className: 'media', src: img.url, alt: m.caption || 'image' });
    return el('figure', { className: 'image' }, pic, caption);
  }
  const why = img.loading ? 'downloading…' : `not shown: ${img.error}`;
  const ph = el('div', { className: 'media-placeholder' + (img.error ? ' failed' : '') },
    el('span', {}, `🖼 ${m.media?.width ?? '?'}×${m.media?.height ?? '?'} · ${why}`), caption);
  return ph;
}

function startDownload(m) {
  const c = state.client;
  const missing = typeof c?.downloadMedia !== 'function' ? 'downloadMedia' : !m.media ? 'media descriptor on message events' : '';
  if (missing) {
    const img = { error: `this wasmeow build has no ${missing}` };
    state.images.set(m.id, img);
    return img;
  }
  const img = { loading: true };
  state.images.set(m.id, img);
  c.downloadMedia(m.event).then((bytes) => {
    img.url = URL.createObjectURL(new Blob([bytes], { type: m.media.mimetype || 'application/octet-stream' }));
    timeline('downloadMedia', `${m.id}: ${bytes.length} bytes`);
  }, (err) => {
    img.error = `${err.code ?? 'error'}: ${err.message ?? String(err)}`;
    timeline('downloadMedia failed', `${m.id}: ${img.error}`, true);
  }).finally(() => {
    img.loading = false;
    if (c === state.client) renderChat();
  });
  return img;
}

// ---- groups ----------------------------------------------------------------

let groupsTimer = null;
function refreshGroupsSoon() {
  clearTimeout(groupsTimer);
  groupsTimer = setTimeout(refreshGroups, 200);
}

async function refreshGroups() {
  const c = state.client;
  if (!c || state.status !== 'ready') return;
  try {
    const groups = await c.getJoinedGroups();
    if (c !== state.client) return;
    state.groups = groups.sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    timeline('getJoinedGroups failed', err.message ?? String(err), true);
  }
  renderGroups();
}

function renderGroups() {
  const ul = $('groups');
  const dl = $('chat-choices');
  const peer = state.cfg?.peer;
  dl.replaceChildren(...(peer ? [el('option', { value: peer.jid }, peer.pushName)] : []),
    ...state.groups.map((g) => el('option', { value: g.jid }, g.name)));
  if (!state.groups.length) {
    ul.replaceChildren(el('li', { className: 'empty' }, state.status === 'ready' ? 'No groups yet.' : 'Groups show once ready.'));
    return;
  }
  ul.replaceChildren(...state.groups.map((g) => {
    const n = state.chats.get(g.jid)?.length ?? 0;
    const li = el('li', { className: g.jid === chatJID() ? 'active' : '' },
      el('span', { className: 'name' }, g.name),
      el('span', { className: 'muted' }, `${g.participants.length} members${n ? ` · ${n} messages` : ''}`));
    li.dataset.jid = g.jid;
    li.title = g.jid + (g.topic ? ` · ${g.topic}` : '');
    li.onclick = () => { $('chat-to').value = g.jid; renderChat(); };
    return li;
  }));
}

// The chat with a user lives under their phone JID; a message may name the
// chat by the user's device JID or LID, so compare users.
function userOf(jid) { return String(jid ?? '').replace(/[:@].*$/, ''); }
function normalizeChat(jid) {
  if (String(jid).endsWith('@g.us')) return jid;
  const cur = chatJID();
  if (cur && (userOf(cur) === userOf(jid) || state.peerLID === userOf(jid))) return cur;
  return String(jid ?? '');
}

// ---- sessions --------------------------------------------------------------

async function refreshSessions() {
  let sessions = [];
  try {
    sessions = await state.mod.listSessions();
  } catch (err) {
    showError('conn-error', err);
  }
  const stored = new Set(sessions);
  const ids = [...sessions];
  // The picked session may have nothing stored yet (new, or just logged out).
  if (state.clientId && !stored.has(state.clientId)) ids.unshift(state.clientId);
  const ul = $('sessions');
  if (!ids.length) {
    ul.replaceChildren(el('li', { className: 'empty' }, 'No sessions yet: create one.'));
    return;
  }
  ul.replaceChildren(...ids.map((id) => {
    const del = el('button', { className: 'danger', title: `Delete session ${id}`, textContent: 'Delete' });
    del.dataset.delete = id;
    del.onclick = (e) => { e.stopPropagation(); deleteSession(id); };
    const name = el('span', { className: 'name' }, id);
    if (!stored.has(id)) name.append(el('span', { className: 'muted' }, ' · not linked'));
    const li = el('li', { className: id === state.clientId ? 'active' : '' }, name, del);
    li.dataset.clientId = id;
    li.dataset.stored = String(stored.has(id));
    li.onclick = () => pickSession(id);
    return li;
  }));
}

async function dropClient() {
  const c = state.client;
  state.client = null;
  state.me = null;
  if (c) {
    try { await c.destroy(); } catch (err) { timeline('destroy failed', err.message ?? String(err), true); }
  }
}

async function pickSession(clientId) {
  if (clientId === state.clientId && state.client) return;
  await dropClient();
  state.clientId = clientId;
  state.chats.clear();
  state.receipts.clear();
  for (const img of state.images.values()) if (img.url) URL.revokeObjectURL(img.url);
  state.images.clear();
  state.groups = [];
  renderChat();
  renderGroups();
  showQR(null);
  $('pair-code-box').replaceChildren('Enter the code on the phone under Linked devices.');
  $('me').replaceChildren();
  const opts = {
    // The remote strategy keeps the session in IndexedDB like 'local' and also
    // hands us versioned snapshots: the backup button downloads the latest.
    auth: { strategy: 'remote', clientId, store: backupStore, backupSyncIntervalMs: 60_000 },
    deviceName: 'wasmeow demo',
  };
  let client;
  try {
    client = await state.mod.createClient(opts);
  } catch (err) {
    showError('conn-error', err);
    return;
  }
  if (state.clientId !== clientId) { // picked another session meanwhile
    await client.destroy().catch(() => {});
    return;
  }
  state.client = client;
  document.body.dataset.downloadMedia = String(typeof client.downloadMedia === 'function');
  wire(client);
  setStatus('idle', 'not connected');
  timeline('session', `picked ${clientId}`);
  await refreshSessions();
}

// backupStore is the remote strategy's store: snapshots stay in this page's
// memory (newest per clientId) for the download button, and a snapshot loaded
// from a file restores a session that this browser does not have.
const backups = new Map();
const backupStore = {
  sessionExists: ({ session }) => backups.has(session),
  save: ({ session, data }) => {
    backups.set(session, { data: new Uint8Array(data), savedAt: Date.now() });
    if (session === state.clientId) refreshButtons();
  },
  extract: ({ session }) => {
    const b = backups.get(session);
    if (!b) throw new Error(`no backup of ${session}`);
    return b.data;
  },
  delete: ({ session }) => {
    backups.delete(session);
    if (session === state.clientId) refreshButtons();
  },
};

async function deleteSession(clientId) {
  if (!confirm(`Delete session "${clientId}" and its keys from this browser?`)) return;
  try {
    if (clientId === state.clientId) {
      await dropClient();
      state.clientId = null;
      setStatus('idle', 'no client');
      showQR(null);
    }
    await state.mod.deleteSession(clientId);
    timeline('session', `deleted ${clientId}`);
  } catch (err) {
    showError('conn-error', err);
  }
  await refreshSessions();
}

// ---- client events -------------------------------------------------------

function wire(c) {
  const on = (name, fn) => c.on(name, (payload) => {
    if (c !== state.client) return; // a destroyed client's late event
    try { fn(payload); } catch (err) { console.error(err); }
  });
  on('qr', (p) => {
    const code = typeof p === 'string' ? p : p?.code;
    setStatus('linking', 'waiting for a scan or a code');
    timeline('qr', code ? `${code.slice(0, 24)}… (valid ${Math.round((p?.timeoutMs ?? 0) / 1000)} s)` : '');
    showQR(code);
  });
  on('pairing_code', (p) => {
    const code = typeof p === 'string' ? p : p?.code;
    timeline('pairing_code', p?.phone ? `${code} for +${String(p.phone).replace(/^\+/, '')}` : code);
    showPairingCode(code);
  });
  on('authenticated', (p) => {
    setStatus('authenticated', 'linked, logging in…');
    timeline('authenticated', `${p?.me ?? ''} (${p?.method === 'stored' ? 'stored session' : 'just paired'}, ${p?.platform ?? ''})`);
    showQR(null);
    showLinked();
  });
  on('auth_failure', (p) => {
    setStatus('failed', 'authentication failed');
    timeline('auth_failure', `${p?.reason ?? ''}: ${p?.message ?? describe(p)}`, true);
  });
  on('ready', async (p) => {
    setStatus('ready', 'ready');
    timeline('ready', p?.me ? `as ${p.me}` : '');
    showQR(null);
    await showCreds();
    showLinked();
    await refreshSessions();
    await refreshGroups();
  });
  on('creds.update', (p) => timeline('creds.update', p?.changed ? `changed: ${p.changed.join(', ')}` : describe(p)));
  on('disconnected', (p) => {
    if (state.status !== 'failed') setStatus('idle', 'disconnected');
    timeline('disconnected', [p?.reason, p?.message].filter(Boolean).join(': '));
    showQR(null);
  });
  on('logged_out', (p) => {
    setStatus('idle', 'logged out');
    timeline('logged_out', p?.reason ?? describe(p), true);
    showQR(null);
    $('me').replaceChildren();
    refreshSessions();
  });
  on('message', (m) => {
    const chat = normalizeChat(m.chat);
    const msg = fromEvent(m);
    if (!msg) {
      const { what, changed } = applyUpdate(state.chats.get(chat) ?? [], m);
      timeline('message', `${m.sender ?? m.chat} ${what}`);
      if (changed && chat === chatJID()) renderChat();
      return;
    }
    timeline('message', `${m.sender ?? m.chat}: ${m.type && m.type !== 'text' ? `[${m.type}] ` : ''}${m.text || msg.caption || msg.detail || ''}`);
    msg.event = m; // downloadMedia takes the event back
    addMessage(chat, msg);
  });
  on('receipt', (r) => {
    timeline('receipt', `${r.type} by ${r.reader}: ${r.ids.join(', ')}`);
    if (r.fromMe) return; // our own device read someone's message: no ticks to change
    let changed = false;
    for (const id of r.ids) {
      state.receipts.set(id, raise(state.receipts.get(id), r.type));
      for (const list of state.chats.values()) {
        const m = list.find((x) => x.id === id && x.out);
        if (m && raise(m.status, r.type) !== m.status) { m.status = raise(m.status, r.type); changed = true; }
      }
    }
    if (changed) renderChat();
  });
  on('group.update', (g) => {
    timeline('group.update', `${g.jid}${g.joined ? ' joined' : ''}${g.name ? ` name "${g.name}"` : ''}${g.info ? ` "${g.info.name}"` : ''}`);
    refreshGroupsSoon();
  });
  on('remote_session_saved', (p) => timeline('remote_session_saved',
    p?.bytes != null ? `snapshot of ${p.records} records, ${p.bytes} bytes (${p.format} v${p.version})` : describe(p)));
  on('error', (e) => timeline('error', e?.message ?? describe(e), true));
}

function toMillis(t) {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t < 1e12 ? t * 1000 : t;
  if (typeof t === 'string') return Date.parse(t) || Date.now();
  return Date.now();
}

async function showCreds() {
  try {
    const creds = state.client.getCreds();
    state.me = creds?.me ?? null;
    const rows = [['me', creds?.me], ['LID', creds?.lid], ['platform', creds?.platform], ['push name', creds?.pushName]];
    $('me').replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  } catch (err) {
    showError('conn-error', err);
  }
}

function downloadBackup() {
  showError('conn-error', null);
  const b = backups.get(state.clientId);
  if (!b) return;
  const blob = new Blob([b.data], { type: 'application/octet-stream' });
  const stamp = new Date(b.savedAt).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const a = el('a', { href: URL.createObjectURL(blob), download: `wasmeow-${state.clientId}-${stamp}.snapshot` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  timeline('backup', `${blob.size} bytes downloaded`);
}

// Restoring: the file becomes the remote copy of a new clientId; the remote
// strategy restores it into IndexedDB when that session connects.
async function restoreBackup(file) {
  showError('conn-error', null);
  const id = $('new-client-id').value.trim() || file.name.replace(/^wasmeow-/, '').replace(/-\d{4}-\d\d-\d\d.*$|\.snapshot$/g, '') || 'restored';
  const data = new Uint8Array(await file.arrayBuffer());
  backups.set(id, { data, savedAt: Date.now() });
  timeline('restore', `${file.name} (${data.length} bytes) as ${id}: connect to restore`);
  $('new-client-id').value = '';
  // The remote strategy restores when a client opens a session with no local
  // device, so open that session's client anew.
  await dropClient();
  state.clientId = null;
  await pickSession(id);
}

// ---- controls --------------------------------------------------------------

function bindControls() {
  $('new-session').onsubmit = async (e) => {
    e.preventDefault();
    const id = $('new-client-id').value.trim();
    $('new-client-id').value = '';
    await pickSession(id);
  };
  $('connect').onclick = async () => {
    showError('conn-error', null);
    setStatus('connecting', 'connecting…');
    try {
      await state.client.connect();
      timeline('connect()', 'resolved');
    } catch (err) {
      setStatus('failed', 'connect failed');
      showError('conn-error', err);
    }
  };
  $('disconnect').onclick = async () => {
    try { await state.client.disconnect(); setStatus('idle', 'disconnected'); } catch (err) { showError('conn-error', err); }
  };
  $('logout').onclick = async () => {
    if (!confirm('Log out? This unlinks the device and wipes this session.')) return;
    try { await state.client.logout(); } catch (err) { showError('conn-error', err); }
    await refreshSessions();
  };
  $('backup').onclick = downloadBackup;
  $('restore-file').onchange = async (e) => {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (f) await restoreBackup(f);
  };
  $('pair-form').onsubmit = async (e) => {
    e.preventDefault();
    showError('pair-error', null);
    const phone = $('pair-phone').value.trim();
    $('pair-submit').disabled = true;
    try {
      const code = await state.client.requestPairingCode(phone);
      if (code && code !== state.pairingCode) {
        timeline('pairing code', code);
        showPairingCode(code);
      }
    } catch (err) {
      showError('pair-error', err);
    } finally {
      refreshButtons();
    }
  };
  $('send-form').onsubmit = async (e) => {
    e.preventDefault();
    showError('send-error', null);
    const to = chatJID();
    const text = $('send-text').value;
    if (!to || !text) return;
    $('send-text').value = '';
    try {
      const id = await state.client.sendText(to, text);
      addMessage(to, fromEvent({ id: typeof id === 'string' ? id : id?.id, type: 'text', text, fromMe: true, time: Date.now() }));
      timeline('sendText', `${to}: ${text}`);
    } catch (err) {
      $('send-text').value = text;
      showError('send-error', err);
    }
  };
  $('chat-to').onchange = renderChat;
}

async function main() {
  bindControls();
  state.cfg = await (await fetch('/config.json')).json();
  const offline = state.cfg.mode === 'offline';
  $('mode').textContent = offline ? 'offline WhatsApp double' : `relay to ${state.cfg.upstream}`;
  if (!offline) $('phone-link').hidden = true;
  if (offline) {
    $('pair-phone').value = state.cfg.phone.phone;
    $('chat-to').value = state.cfg.peer.jid;
    state.peerLID = userOf(state.cfg.peer.lid);
  }
  setStatus('idle', 'loading wasmeow…');
  const t0 = performance.now();
  try {
    // Page-wide: every client connects to the demo server's socket, which
    // serves the offline double or relays to WhatsApp.
    state.mod = await loadWasmeow({
      socketURL: new URL('/ws/chat', location.href).href.replace(/^http/, 'ws'),
      trustRootKey: state.cfg.trustRootKey || undefined,
    });
  } catch (err) {
    setStatus('failed', 'wasmeow failed to load');
    showError('conn-error', err);
    return;
  }
  timeline('loaded', `wasmeow ready in ${Math.round(performance.now() - t0)} ms`);
  const sessions = await state.mod.listSessions().catch(() => []);
  const first = sessions[0];
  await pickSession(first ?? 'demo');
  document.body.dataset.loaded = 'true';
}

main().catch((err) => showError('conn-error', err));
