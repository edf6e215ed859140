// The simulated phone: it plays the demo account's primary phone (scanning the
// QR shown by the demo page or taking a pairing code) and the peer who chats
// with it, all through fakewa's control API in the same demo process.
import qrcode from '/vendor/qrcode.mjs';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const n = Object.assign(document.createElement(tag), props);
  n.append(...children);
  return n;
};

const state = { cfg: null, seenQR: null, messages: new Map(), pending: [], groups: [] };

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `${method} ${path}: HTTP ${res.status}`);
  return data;
}

const enc = encodeURIComponent;

// ---- linking ---------------------------------------------------------------

function showSeenQR(code) {
  state.seenQR = code;
  const box = $('seen-qr');
  $('scan').disabled = !code;
  if (!code) {
    box.replaceChildren(el('span', { className: 'muted' }, 'Waiting for the demo page to show a QR code…'));
    return;
  }
  const qr = qrcode(0, 'L');
  qr.addData(code);
  qr.make();
  box.replaceChildren(el('img', { alt: 'the QR code the camera sees', src: qr.createDataURL(4, 8) }),
    el('span', { className: 'muted' }, 'QR code on the demo page'));
}

async function scan(code, statusEl) {
  statusEl.textContent = 'scanning…';
  try {
    const { device } = await api('POST', `/api/accounts/${enc(state.cfg.phone.phone)}/scan`, { qr: code.trim() });
    statusEl.textContent = `linked ${device}`;
    await refreshDevices();
  } catch (err) {
    statusEl.textContent = `scan failed: ${err.message}`;
  }
}

const channel = new BroadcastChannel('wasmeow-demo');
channel.onmessage = ({ data }) => {
  if (data?.type === 'qr') showSeenQR(data.code);
  // The simulated phone reads the code off the demo page to save typing; the
  // person still presses Link.
  if (data?.type === 'pairing_code' && data.code && !$('link-code').value) $('link-code').value = data.code;
};

// ---- devices ---------------------------------------------------------------

async function refreshDevices() {
  let accounts;
  try {
    accounts = await api('GET', '/api/accounts');
  } catch {
    return;
  }
  const me = accounts.find((a) => a.phone === state.cfg.phone.phone);
  const companions = (me?.devices ?? []).filter((d) => !/:0@|^[^:]*@/.test(d.jid));
  const ul = $('devices');
  if (!companions.length) {
    ul.replaceChildren(el('li', { className: 'muted' }, 'No linked devices.'));
    return;
  }
  ul.replaceChildren(...companions.map((d) => {
    const out = el('button', { className: 'danger', textContent: 'Log out' });
    out.onclick = async () => {
      try {
        await api('POST', `/api/devices/${enc(d.jid)}/logout`);
      } catch (err) {
        $('code-status').textContent = err.message;
      }
      await refreshDevices();
    };
    return el('li', {}, el('i', { className: 'dot' + (d.online ? ' ready' : ''), title: d.online ? 'online' : 'offline' }),
      el('span', {}, `${d.platform || 'device'} · ${d.jid}`), out);
  }));
}

// ---- chat as the peer -------------------------------------------------------

function userOf(jid) { return String(jid ?? '').replace(/[:@].*$/, ''); }

async function refreshMessages() {
  let list;
  try {
    list = await api('GET', `/api/accounts/${enc(state.cfg.peer.phone)}/messages`);
  } catch {
    return;
  }
  let changed = false;
  for (const m of list ?? []) {
    if (!state.messages.has(m.id)) {
      state.messages.set(m.id, m);
      changed = true;
    }
  }
  if (changed) renderMessages();
}

function renderMessages() {
  const peerUsers = [userOf(state.cfg.peer.jid), userOf(state.cfg.peer.lid)];
  const all = [...state.messages.values()].sort((a, b) => toMillis(a.time) - toMillis(b.time));
  const box = $('msgs');
  if (!all.length) {
    box.replaceChildren(el('div', { className: 'empty' }, 'No messages yet.'));
    return;
  }
  box.replaceChildren(...all.map((m) => {
    const out = peerUsers.includes(userOf(m.from));
    const group = String(m.chat ?? '').endsWith('@g.us') ? state.groups.find((g) => g.jid === m.chat)?.subject ?? m.chat : '';
    const b = el('div', { className: 'bubble' + (out ? ' out' : '') },
      group ? el('div', { className: 'kind' }, `in ${group}`) : '',
      m.media ? el('div', { className: 'kind' }, `📎 ${m.media.type}${m.media.error ? ` (not downloaded: ${m.media.error})` : `, ${m.media.size} bytes`}`) : '',
      el('div', { className: 'text' }, m.text || m.media?.caption || (m.text == null || m.media ? '' : describeRaw(m.raw))),
      el('div', { className: 'meta' }, new Date(toMillis(m.time)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })));
    b.dataset.id = m.id;
    if (group) b.dataset.chat = m.chat;
    return b;
  }));
  box.scrollTop = box.scrollHeight;
}

// A message with no text: the name of its kind (e.g. reactionMessage).
function describeRaw(raw) {
  const kinds = Object.keys(raw ?? {}).filter((k) => k !== 'messageContextInfo');
  return kinds.length ? `[${kinds.join(', ')}]` : '';
}

// ---- groups and images --------------------------------------------------

async function refreshGroups() {
  let groups;
  try {
    groups = await api('GET', `/api/accounts/${enc(state.cfg.peer.phone)}/groups`);
  } catch {
    return;
  }
  state.groups = groups ?? [];
  const sel = $('phone-to');
  const keep = sel.value;
  const { phone } = state.cfg;
  sel.replaceChildren(el('option', { value: phone.jid }, `${phone.pushName} (+${phone.phone})`),
    ...state.groups.map((g) => el('option', { value: g.jid }, `group: ${g.subject}`)));
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
}

// The image the phone sends: a small PNG drawn on a canvas (IMAGE_W ×
// IMAGE_H, so a test can check the picture the demo page shows).
const IMAGE_W = 48;
const IMAGE_H = 32;
async function drawPNG() {
  const canvas = el('canvas', { width: IMAGE_W, height: IMAGE_H });
  const g = canvas.getContext('2d');
  g.fillStyle = '#1f8f6a';
  g.fillRect(0, 0, IMAGE_W, IMAGE_H);
  g.fillStyle = '#fff';
  g.beginPath();
  g.arc(IMAGE_W / 2, IMAGE_H / 2, IMAGE_H / 3, 0, 2 * Math.PI);
  g.fill();
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function sendImage() {
  const { peer } = state.cfg;
  $('send-error').textContent = '';
  const caption = `A ${IMAGE_W}×${IMAGE_H} picture from ${peer.pushName}`;
  try {
    const to = $('phone-to').value;
    const { id } = await api('POST', `/api/accounts/${enc(peer.phone)}/send-media`, {
      to, type: 'image', data: await drawPNG(), mimetype: 'image/png', caption, width: IMAGE_W, height: IMAGE_H,
    });
    state.messages.set(id, { id, from: peer.jid, chat: to, text: caption, time: Date.now() });
    renderMessages();
  } catch (err) {
    $('send-error').textContent = `image: ${err.message}`;
  }
}

async function createGroup() {
  const { peer, phone } = state.cfg;
  $('send-error').textContent = '';
  try {
    const n = state.groups.filter((g) => g.creator === peer.jid).length + 1;
    const g = await api('POST', `/api/accounts/${enc(peer.phone)}/groups`, { subject: `Demo group ${n}`, participants: [phone.phone] });
    await refreshGroups();
    $('phone-to').value = g.jid;
  } catch (err) {
    $('send-error').textContent = `group: ${err.message}`;
  }
}

function toMillis(t) {
  if (typeof t === 'number') return t < 1e12 ? t * 1000 : t;
  return Date.parse(t) || 0;
}

async function main() {
  state.cfg = await (await fetch('/config.json')).json();
  if (state.cfg.mode !== 'offline') {
    $('relay-notice').hidden = false;
    $('phone-ui').hidden = true;
    $('phone-sub').textContent = 'relay mode';
    return;
  }
  const { phone, peer } = state.cfg;
  $('phone-title').textContent = `${phone.pushName} · +${phone.phone}`;
  $('phone-sub').textContent = 'simulated primary phone (offline WhatsApp double)';
  $('chat-title').textContent = `${peer.pushName} chats with ${phone.pushName}`;

  $('scan').onclick = () => scan(state.seenQR, $('scan-status'));
  $('scan-pasted').onclick = () => scan($('qr-text').value, $('scan-status'));
  $('code-form').onsubmit = async (e) => {
    e.preventDefault();
    const code = $('link-code').value.trim();
    $('code-status').textContent = 'linking…';
    try {
      const { device } = await api('POST', `/api/accounts/${enc(phone.phone)}/link-code`, { code });
      $('code-status').textContent = `linked ${device}`;
      $('link-code').value = '';
      await refreshDevices();
    } catch (err) {
      $('code-status').textContent = `failed: ${err.message}`;
    }
  };
  $('send-form').onsubmit = async (e) => {
    e.preventDefault();
    const text = $('send-text').value;
    if (!text) return;
    $('send-text').value = '';
    $('send-error').textContent = '';
    try {
      const to = $('phone-to').value || phone.jid;
      // A group takes any message (send-message); a user the plain text API.
      const { id } = to.endsWith('@g.us')
        ? await api('POST', `/api/accounts/${enc(peer.phone)}/send-message`, { to, message: { conversation: text } })
        : await api('POST', `/api/accounts/${enc(peer.phone)}/send`, { to, text });
      // The peer's own message shows at once; the list from the server
      // (received messages) fills in the rest.
      state.messages.set(id, { id, from: peer.jid, chat: to, text, time: Date.now() });
      renderMessages();
    } catch (err) {
      $('send-text').value = text;
      $('send-error').textContent = err.message;
    }
  };

  $('send-image').onclick = sendImage;
  $('create-group').onclick = createGroup;

  channel.postMessage({ type: 'hello' });
  await Promise.all([refreshDevices(), refreshMessages(), refreshGroups()]);
  setInterval(refreshGroups, 3000);
  setInterval(refreshMessages, 1000);
  setInterval(refreshDevices, 3000);
  document.body.dataset.loaded = 'true';
}

main().catch((err) => { $('phone-sub').textContent = `failed: ${err.message}`; });
