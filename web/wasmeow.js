// wasmeow: WhatsApp multi-device (whatsmeow, compiled to WebAssembly) in the browser.
//
// This ES module loads wasmeow.wasm and wasm_exec.js from its own directory
// (import.meta.url), so a page or bundler only has to serve the three files
// together. It works in a page and in a Web Worker. Types: wasmeow.d.ts.

const EVENTS = ['qr', 'pairing_code', 'authenticated', 'auth_failure', 'ready', 'creds.update',
  'disconnected', 'reconnecting', 'logged_out', 'message', 'remote_session_saved', 'error'];

// The longest delay setTimeout honours.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// describe names a bad argument in an error message without calling its
// (possibly hostile) toString.
function describe(v) {
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  try { if (Array.isArray(v)) return 'an array'; } catch { /* a revoked Proxy */ }
  return `a ${typeof v}`;
}

/** An Error raised by wasmeow; `code` says what kind (see wasmeow.d.ts). */
export class WasmeowError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'WasmeowError';
    this.code = code;
  }
}

function toWasmeowError(e) {
  if (e instanceof WasmeowError) return e;
  if (e instanceof Error) {
    const w = new WasmeowError(e.message, e.code || 'internal');
    return w;
  }
  return new WasmeowError(String(e), 'internal');
}

// Go cannot throw into JS; its synchronous functions return an Error value instead.
function unwrapSync(v) {
  if (v instanceof Error) throw toWasmeowError(v);
  return v;
}

let loading = null;

/**
 * Loads and starts the wasm program once per page or worker; later calls
 * return the same module.
 * @param {import('./wasmeow').LoadOptions} [options]
 * @returns {Promise<WasmeowModule>}
 */
export function loadWasmeow(options = {}) {
  if (loading) return loading;
  loading = start(options).catch((e) => {
    loading = null; // let a later call retry (e.g. after a network error)
    throw toWasmeowError(e);
  });
  return loading;
}

async function start(options) {
  const base = new URL('.', import.meta.url);
  const wasmURL = new URL(options.wasmURL ?? 'wasmeow.wasm', base);
  const execURL = new URL(options.wasmExecURL ?? 'wasm_exec.js', base);
  if (typeof globalThis.Go !== 'function') {
    // wasm_exec.js is a classic script that defines globalThis.Go; importing
    // it runs it, in pages and in (module or classic) workers alike.
    await import(/* @vite-ignore */ /* webpackIgnore: true */ execURL.href);
  }
  const go = new globalThis.Go();
  const key = `__wasmeow_ready_${Math.random().toString(36).slice(2)}`;
  const ready = new Promise((resolve) => { globalThis[key] = resolve; });
  go.argv = ['wasmeow', key];
  const t0 = performance.now();
  const instance = await instantiate(wasmURL, go.importObject);
  const exited = go.run(instance);
  const state = { exited: false };
  const api = await Promise.race([
    ready,
    exited.then(() => { throw new WasmeowError('the wasmeow program exited while starting', 'exited'); }),
  ]);
  delete globalThis[key];
  // Page-wide settings (waVersion) must be in place before any client connects.
  unwrapSync(api.configure({ waVersion: options.waVersion }));
  exited.then(() => { state.exited = true; });
  return new WasmeowModule(api, state, performance.now() - t0);
}

async function instantiate(url, imports) {
  const res = await fetch(url);
  if (!res.ok) throw new WasmeowError(`fetching ${url}: HTTP ${res.status}`, 'load_failed');
  if (WebAssembly.instantiateStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
    const { instance } = await WebAssembly.instantiateStreaming(res, imports);
    return instance;
  }
  // Servers that send another Content-Type defeat streaming compilation.
  const { instance } = await WebAssembly.instantiate(await res.arrayBuffer(), imports);
  return instance;
}

export class WasmeowModule {
  #api;
  #state;
  constructor(api, state, startMs) {
    this.#api = api;
    this.#state = state;
    /** Milliseconds from fetching the wasm to the Go program being ready. */
    this.startMs = startMs;
    this.version = api.version;
  }

  #check() {
    if (this.#state.exited) throw new WasmeowError('the wasmeow program has exited; reload the page', 'exited');
  }

  /** @param {import('./wasmeow').ClientOptions} [options] */
  async createClient(options) {
    this.#check();
    try {
      const h = await this.#api.createClient(options);
      return new Client(h, this.#state);
    } catch (e) {
      throw toWasmeowError(e);
    }
  }

  /** The WhatsApp Web version the next connection announces, e.g. "2.3000.1034270928". */
  getWAVersion() {
    this.#check();
    return unwrapSync(this.#api.getWAVersion());
  }

  /** clientIds with a local (IndexedDB) session under dbName. */
  async listSessions(options) {
    this.#check();
    try { return await this.#api.listSessions(options); } catch (e) { throw toWasmeowError(e); }
  }

  /** Deletes a local session that no client has open. */
  async deleteSession(clientId, options) {
    this.#check();
    try { return await this.#api.deleteSession(clientId, options); } catch (e) { throw toWasmeowError(e); }
  }

  /** Makes a snapshot from client.exportSession() the local session clientId (which must not exist). */
  async importSession(clientId, data, options) {
    this.#check();
    try { return await this.#api.importSession(clientId, data, options); } catch (e) { throw toWasmeowError(e); }
  }
}

export class Client {
  #h;
  #state;
  constructor(handle, state) {
    this.#h = handle;
    this.#state = state;
    this.clientId = handle.clientId;
    this.strategy = handle.strategy;
  }

  #check() {
    if (this.#state.exited) throw new WasmeowError('the wasmeow program has exited; reload the page', 'exited');
  }

  async #call(name, ...args) {
    this.#check();
    try { return await this.#h[name](...args); } catch (e) { throw toWasmeowError(e); }
  }

  #sync(name) {
    this.#check();
    return unwrapSync(this.#h[name]());
  }

  on(event, listener) { this.#listen('on', event, listener); return this; }
  once(event, listener) { this.#listen('once', event, listener); return this; }
  off(event, listener) { this.#check(); unwrapSync(this.#h.off(event, listener)); return this; }

  #listen(how, event, listener) {
    this.#check();
    if (typeof event !== 'string' || !EVENTS.includes(event)) {
      const name = typeof event === 'string' ? JSON.stringify(event) : describe(event);
      throw new WasmeowError(`unknown event ${name} (known: ${EVENTS.join(', ')})`, 'invalid_option');
    }
    unwrapSync(this.#h[how](event, listener));
  }

  /** Resolves with the next `event`, or rejects after timeoutMs. */
  waitFor(event, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      // setTimeout reads NaN, 'abc' and anything above 2^31-1 ms as 0: check first.
      if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
        throw new WasmeowError(`waitFor(event, timeoutMs): timeoutMs must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got ${describe(timeoutMs)}`, 'invalid_option');
      }
      const onEvent = (payload) => { clearTimeout(t); resolve(payload); };
      this.once(event, onEvent); // throws (rejecting) on an unknown event, before any timer
      const t = setTimeout(() => {
        try { this.off(event, onEvent); } catch { /* the program exited: reject all the same */ }
        reject(new WasmeowError(`no ${event} event within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
    });
  }

  connect() { return this.#call('connect'); }
  requestPairingCode(phone) { return this.#call('requestPairingCode', phone); }
  sendText(jid, text) { return this.#call('sendText', jid, text); }
  exportSession() { return this.#call('exportSession'); }
  logout() { return this.#call('logout'); }
  disconnect() { return this.#call('disconnect'); }
  destroy() { return this.#call('destroy'); }
  listSessions() { return this.#call('listSessions'); }
  deleteSession(clientId) { return this.#call('deleteSession', clientId); }
  getCreds() { return this.#sync('getCreds'); }

  get state() { this.#check(); return unwrapSync(this.#h.getState()); }
  get isConnected() { return this.#sync('isConnected'); }
  get isLoggedIn() { return this.#sync('isLoggedIn'); }
}
