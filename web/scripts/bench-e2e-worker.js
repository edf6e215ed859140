// One dedicated Worker of the end-to-end benchmark page (bench-e2e.html,
// window.benchWorkers): it loads its own wasmeow module and runs the clients
// the page gives it. Calls {id, method, args} are answered {id, ok, value |
// error}; what the clients emit goes to the page as {event, name, ...}: a QR
// code, ready, and for each text received from others the client's count
// since its mark (unix ms of the first and the latest), which the page keeps
// in window.recv as it does for its own clients.
import { loadWasmeow } from '/wasmeow.js';

let wm;
let instance;
const clients = {};
const recv = {};

// The module's instance, for its linear memory (wasmeow.js does not expose it).
for (const fn of ['instantiateStreaming', 'instantiate']) {
  const orig = WebAssembly[fn];
  WebAssembly[fn] = async (...args) => {
    const r = await orig.apply(WebAssembly, args);
    instance = r instanceof WebAssembly.Instance ? r : r.instance; // instantiate(Module) gives the Instance
    return r;
  };
}

const methods = {
  async load(options) {
    wm = await loadWasmeow(options);
    return { startMs: wm.startMs };
  },
  async create(name) {
    const c = await wm.createClient({ auth: { strategy: 'local', clientId: name }, logLevel: 'error' });
    clients[name] = c;
    recv[name] = { n: 0, first: 0, last: 0 };
    c.on('message', (m) => {
      if (m.fromMe) return;
      const r = recv[name];
      const now = Date.now();
      if (r.n === 0) r.first = now;
      r.n++;
      r.last = now;
      postMessage({ event: 'recv', name, ...r });
    });
    c.on('qr', (q) => postMessage({ event: 'qr', name, code: q.code }));
    c.on('ready', () => postMessage({ event: 'ready', name }));
  },
  connect: (name) => clients[name].connect(),
  disconnect: (name) => clients[name].disconnect(),
  mark(name) { recv[name] = { n: 0, first: 0, last: 0 }; },
  linearMemory: () => instance?.exports.mem?.buffer.byteLength ?? 0,
};

self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    postMessage({ id, ok: true, value: await methods[method](...(args || [])) });
  } catch (err) {
    postMessage({ id, ok: false, error: String(err?.stack ?? err) });
  }
};
