// Harness of the hidden-tab measurement (web/scripts/hidden-tab.mjs), used
// in a page and in a dedicated Worker alike: one wasmeow client, every event
// it emits, every keepalive it sends and the answer to it (read from
// whatsmeow's debug log), and a chained 1 s setTimeout whose gaps show how
// much this context's timers are throttled. All times are epoch ms.
import { loadWasmeow } from '/wasmeow.js';

const EVENTS = ['qr', 'pairing_code', 'authenticated', 'auth_failure', 'ready', 'creds.update',
  'disconnected', 'reconnecting', 'logged_out', 'message', 'remote_session_saved', 'error'];

/** A chained setTimeout (a nesting level that grows without end, as Chrome counts it). */
export function startDrift(intervalMs = 1000) {
  const fires = [];
  (function tick() { fires.push(Date.now()); setTimeout(tick, intervalMs); })();
  return fires;
}

export async function createHarness() {
  const h = { events: [], keepalives: [], fires: startDrift(), frames: { sent: 0, recv: 0 }, client: null };
  const pending = new Map();
  // whatsmeow logs every node it sends ([... /Client/Send DEBUG] <iq .../>)
  // and receives (/Client/Recv) at debug level; keep only what we need.
  const debug = console.debug.bind(console);
  console.debug = (...args) => {
    const s = String(args[0]);
    const send = s.includes('/Client/Send DEBUG]');
    const recv = s.includes('/Client/Recv DEBUG]');
    if (!send && !recv) return debug(...args);
    if (send) h.frames.sent++; else h.frames.recv++;
    const id = /\bid="([^"]+)"/.exec(s)?.[1];
    if (send && s.includes('xmlns="w:p"') && id) {
      const k = { id, sentAt: Date.now(), ackAt: null };
      h.keepalives.push(k);
      pending.set(id, k);
    } else if (recv && id && pending.has(id) && /^[^>]*<iq\b[^>]*type="result"/.test(s.slice(s.indexOf(']') + 1))) {
      pending.get(id).ackAt = Date.now();
      pending.delete(id);
    }
  };
  // whatsmeow's warnings and errors, kept for the report (and still printed).
  h.logs = [];
  for (const level of ['warn', 'error']) {
    const orig = console[level].bind(console);
    console[level] = (...args) => {
      if (h.logs.length < 500) h.logs.push({ at: Date.now(), level, text: String(args[0]).slice(0, 500) });
      orig(...args);
    };
  }
  h.create = async ({ socketURL, trustRootKey, ...options }) => {
    // The server is page-wide: loadWasmeow's options, given with the client.
    const wm = await loadWasmeow({ socketURL, trustRootKey });
    h.version = wm.version;
    const c = await wm.createClient(options);
    h.client = c;
    for (const ev of EVENTS) {
      c.on(ev, (p) => h.events.push({
        name: ev, at: Date.now(),
        payload: p instanceof Error ? { message: p.message, code: p.code }
          : ev === 'message' ? { id: p.id, text: p.text, time: p.time }
            : ev === 'creds.update' ? { changed: p.changed } : p,
      }));
    }
    return c.clientId;
  };
  h.connect = () => h.client.connect();
  h.sendText = (to, text) => h.client.sendText(to, text);
  h.me = () => h.client.getCreds().me;
  h.state = () => h.client.state;
  h.snapshot = () => ({
    events: h.events, keepalives: h.keepalives, fires: h.fires, frames: h.frames, logs: h.logs,
    state: h.client?.state, now: Date.now(),
  });
  return h;
}
