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

const state = { cfg: null, seenQR: null, messages: new Map(), pending: [] };

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
    const b = el('div', { className: 'bubble' + (out ? ' out' : '') }, el('div', { className: 'text' }, m.text ?? ''),
      el('div', { className: 'meta' }, new Date(toMillis(m.time)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })));
    b.dataset.id = m.id;
    return b;
  }));
  box.scrollTop = box.scrollHeight;
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
      const { id } = await api('POST', `/api/accounts/${enc(peer.phone)}/send`, { to: phone.jid, text });
      // The peer's own message shows at once; the list from the server
      // (received messages) fills in the rest.
      state.messages.set(id, { id, from: peer.jid, chat: phone.jid, text, time: Date.now() });
      renderMessages();
    } catch (err) {
      $('send-text').value = text;
      $('send-error').textContent = err.message;
    }
  };

  channel.postMessage({ type: 'hello' });
  await Promise.all([refreshDevices(), refreshMessages()]);
  setInterval(refreshMessages, 1000);
  setInterval(refreshDevices, 3000);
  document.body.dataset.loaded = 'true';
}

main().catch((err) => { $('phone-sub').textContent = `failed: ${err.message}`; });
