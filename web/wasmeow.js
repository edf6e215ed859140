// wasmeow: WhatsApp multi-device (whatsmeow, compiled to WebAssembly) in the browser.
//
// This ES module loads wasmeow.wasm and wasm_exec.js from its own directory
// (new URL('./file', import.meta.url), which bundlers emit as assets), or
// from the wasmURL and wasmExecURL given to loadWasmeow. It works in a page
// and in a Web Worker. Types: wasmeow.d.ts.

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
let loadedWith = null; // the options of the load in progress or done

const LOAD_OPTIONS = ['wasmURL', 'wasmExecURL', 'waVersion', 'onProgress'];

// The asset URLs, written the way bundlers (Vite, webpack, Parcel, Rollup
// plugins) recognise, emit and rewrite: new URL('./literal', import.meta.url).
// Called only when no explicit URL is given: an IIFE or CommonJS bundle has
// no import.meta.url, and new URL would throw "Invalid URL".
const defaultWasmURL = () => new URL('./wasmeow.wasm', import.meta.url);
const defaultExecURL = () => new URL('./wasm_exec.js', import.meta.url);

const isResponse = (v) => typeof Response === 'function' && v instanceof Response;
const isModule = (v) => v instanceof WebAssembly.Module;
const isURLText = (v) => typeof v === 'string' || (typeof URL === 'function' && v instanceof URL);

function show(v) {
  if (v === undefined) return 'none';
  if (isURLText(v)) return JSON.stringify(String(v));
  if (isResponse(v)) return 'a Response';
  if (isModule(v)) return 'a WebAssembly.Module';
  return describe(v);
}

function checkLoadOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new WasmeowError(`loadWasmeow(options): options must be an object, got ${describe(options)}`, 'invalid_option');
  }
  for (const k of Object.keys(options)) {
    if (!LOAD_OPTIONS.includes(k)) throw new WasmeowError(`loadWasmeow: unknown option ${k} (known: ${LOAD_OPTIONS.join(', ')})`, 'invalid_option');
  }
  const o = { ...options };
  const w = o.wasmURL;
  if (w !== undefined && !isURLText(w) && !isResponse(w) && !isModule(w) && typeof w?.then !== 'function') {
    throw new WasmeowError(`loadWasmeow: wasmURL must be a URL, a string, a Response (or a promise of one) or a WebAssembly.Module, got ${describe(w)}`, 'invalid_option');
  }
  if (o.wasmExecURL !== undefined && !isURLText(o.wasmExecURL)) {
    throw new WasmeowError(`loadWasmeow: wasmExecURL must be a URL or a string, got ${describe(o.wasmExecURL)}`, 'invalid_option');
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new WasmeowError(`loadWasmeow: onProgress must be a function, got ${describe(o.onProgress)}`, 'invalid_option');
  }
  // Checked here as well as in Go: a bad one must fail before a Go program
  // (about 100 MB) starts, not leave one running behind a rejected load.
  if (o.waVersion !== undefined && (typeof o.waVersion !== 'string' || !/^\s*[1-9]\d*\.\d+\.\d+\s*$/.test(o.waVersion))) {
    throw new WasmeowError(`loadWasmeow: option waVersion must be a WhatsApp Web version such as "2.3000.1045649367", got ${describe(o.waVersion)}`, 'invalid_option');
  }
  return o;
}

// Two option values are the same when they are the same object, or URLs/strings with the same text.
const sameOption = (a, b) => a === b || (isURLText(a) && isURLText(b) && String(a) === String(b));

/**
 * Loads and starts the wasm program once per page or worker. A later call
 * with no options, or the same ones, returns the same module; one that asks
 * for another wasmURL, wasmExecURL or waVersion rejects with invalid_option.
 * @param {import('./wasmeow').LoadOptions} [options]
 * @returns {Promise<WasmeowModule>}
 */
export function loadWasmeow(options = {}) {
  let opts;
  try { opts = checkLoadOptions(options); } catch (e) { return Promise.reject(e); }
  if (loading) {
    for (const k of ['wasmURL', 'wasmExecURL', 'waVersion']) {
      if (opts[k] !== undefined && !sameOption(opts[k], loadedWith[k])) {
        return Promise.reject(new WasmeowError(`loadWasmeow: wasmeow is already loaded in this page or worker with ${k} ${show(loadedWith[k])}; `
          + `a second call cannot change it to ${show(opts[k])} (call loadWasmeow() with no options, or the same ones, to get the loaded module)`, 'invalid_option'));
      }
    }
    return loading;
  }
  loadedWith = opts;
  loading = start(opts).catch((e) => {
    loading = null; // let a later call retry (e.g. after a network error)
    loadedWith = null;
    throw toWasmeowError(e);
  });
  return loading;
}

// resolveAsset turns an explicit URL (relative ones against the page or
// worker, as fetch does) or the default beside wasmeow.js into a URL.
function resolveAsset(given, fallback, option, file) {
  if (given !== undefined) {
    try { return new URL(String(given), globalThis.location?.href); } catch {
      throw new WasmeowError(`loadWasmeow: ${option} ${JSON.stringify(String(given))} is not a valid URL`, 'invalid_option');
    }
  }
  try { return fallback(); } catch {
    throw new WasmeowError(`loadWasmeow: cannot locate ${file}: this copy of wasmeow.js has no import.meta.url `
      + `(bundled as an IIFE or CommonJS?); pass ${option} (and the other asset URL) to loadWasmeow`, 'load_failed');
  }
}

async function start(options) {
  const t0 = performance.now();
  let wasm = options.wasmURL;
  if (wasm !== undefined && !isURLText(wasm) && !isResponse(wasm) && !isModule(wasm)) wasm = await wasm; // a promise of a Response
  if (wasm === undefined || isURLText(wasm)) wasm = resolveAsset(wasm, defaultWasmURL, 'wasmURL', 'wasmeow.wasm');
  if (typeof globalThis.Go !== 'function') {
    await loadGoRuntime(resolveAsset(options.wasmExecURL, defaultExecURL, 'wasmExecURL', 'wasm_exec.js'));
  }
  const go = new globalThis.Go();
  const key = `__wasmeow_ready_${Math.random().toString(36).slice(2)}`;
  const ready = new Promise((resolve) => { globalThis[key] = resolve; });
  go.argv = ['wasmeow', key];
  const instance = await instantiate(wasm, go.importObject, options.onProgress);
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

// loadGoRuntime runs Go's wasm_exec.js, a classic script that defines
// globalThis.Go: importing it runs it, in pages and (module or classic)
// workers alike; a classic worker without import() gets importScripts.
async function loadGoRuntime(url) {
  let err;
  try {
    await import(/* @vite-ignore */ /* webpackIgnore: true */ url.href);
  } catch (e) {
    err = e;
    if (typeof globalThis.importScripts === 'function') {
      try { globalThis.importScripts(url.href); } catch { /* report the import's error */ }
    }
  }
  if (typeof globalThis.Go === 'function') return;
  if (err) throw await diagnose(url, 'wasm_exec.js', 'wasmExecURL', err);
  throw new WasmeowError(`${url.href} ran but did not define Go: is it Go's wasm_exec.js, from the Go that built wasmeow.wasm?`, 'load_failed');
}

const mime = (res) => (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();

// fetchFailed names the likely cause of a fetch that threw (no HTTP answer at all).
function fetchFailed(url, file, e) {
  const here = globalThis.location?.origin;
  const cause = here && url.origin !== here
    ? `it is on another origin (${url.origin}) than this page (${here}): its server must allow this origin with `
      + `Access-Control-Allow-Origin (CORS), or the server is unreachable`
    : 'the server is unreachable';
  return new WasmeowError(`loading ${file} from ${url.href} failed (${e?.message ?? e}): ${cause}`, 'load_failed');
}

// httpFailed names the likely cause of an answer that is not the file.
function httpFailed(res, where, file, option) {
  if (!res.ok) {
    const hint = res.status === 404 ? ` (not found: deploy ${file} beside wasmeow.js, or pass ${option} where it is)` : '';
    return new WasmeowError(`loading ${file} from ${where}: HTTP ${res.status}${hint}`, 'load_failed');
  }
  if (mime(res) === 'text/html') {
    return new WasmeowError(`loading ${file} from ${where}: got an HTML page (text/html) instead of ${file}; the server probably `
      + `answers unknown paths with a fallback page (single-page app routing): deploy ${file} there, or pass ${option} where it is`, 'load_failed');
  }
  return null;
}

// diagnose fetches a script that failed to import to say why.
async function diagnose(url, file, option, err) {
  let res;
  try { res = await fetch(url, { cache: 'no-store' }); } catch (e) { return fetchFailed(url, file, e); }
  const bad = httpFailed(res, url.href, file, option);
  if (bad) return bad;
  const type = mime(res);
  if (!/^(text|application)\/(x-)?(javascript|ecmascript)$/.test(type)) {
    return new WasmeowError(`loading ${file} from ${url.href}: it is served as ${type || 'no Content-Type'}, and browsers run `
      + `module scripts only when served with a JavaScript MIME type (text/javascript)`, 'load_failed');
  }
  return new WasmeowError(`loading ${file} from ${url.href} failed: ${err?.message ?? err}`, 'load_failed');
}

// counted wraps res so that onProgress sees every chunk. total is the
// Content-Length when it counts the bytes read (no Content-Encoding), else null.
function counted(res, onProgress) {
  if (!onProgress || !res.body) return res;
  const len = Number(res.headers.get('content-length'));
  let total = !res.headers.get('content-encoding') && len > 0 ? len : null;
  let loaded = 0;
  const report = () => { try { onProgress({ loaded, total }); } catch (e) { console.error('wasmeow: onProgress threw', e); } };
  const reader = res.body.getReader();
  report();
  const body = new ReadableStream({
    async pull(ctrl) {
      const { done, value } = await reader.read();
      if (done) {
        total = loaded;
        report();
        ctrl.close();
        return;
      }
      loaded += value.byteLength;
      if (total !== null && loaded > total) total = null; // a compressed length we could not see
      report();
      ctrl.enqueue(value);
    },
    cancel: (why) => reader.cancel(why),
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

async function instantiate(src, imports, onProgress) {
  if (isModule(src)) return WebAssembly.instantiate(src, imports);
  let res = src;
  const where = isResponse(src) ? (src.url || 'the Response given as wasmURL') : src.href;
  if (!isResponse(src)) {
    try { res = await fetch(src); } catch (e) { throw fetchFailed(src, 'wasmeow.wasm', e); }
  } else if (src.bodyUsed) {
    throw new WasmeowError('loadWasmeow: the Response given as wasmURL has already been read', 'invalid_option');
  }
  const bad = httpFailed(res, where, 'wasmeow.wasm', 'wasmURL');
  if (bad) throw bad;
  const type = mime(res);
  const body = counted(res, onProgress);
  try {
    if (type === 'application/wasm' && typeof WebAssembly.instantiateStreaming === 'function') {
      return (await WebAssembly.instantiateStreaming(body, imports)).instance; // compiles while downloading
    }
    console.info(`wasmeow: ${where} is served as ${type || 'no Content-Type'}, not application/wasm, so it is compiled only after `
      + 'the whole download; serve .wasm files as application/wasm to compile while downloading');
    const bytes = new Uint8Array(await body.arrayBuffer());
    if (!(bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
      const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
      throw new WasmeowError(`loading wasmeow.wasm from ${where}: ${text.startsWith('<') ? 'got an HTML page' : 'the body is not WebAssembly'} `
        + `(${bytes.length} bytes, served as ${type || 'no Content-Type'}); check that wasmURL points at wasmeow.wasm`, 'load_failed');
    }
    return (await WebAssembly.instantiate(bytes, imports)).instance;
  } catch (e) {
    if (e instanceof WasmeowError) throw e;
    throw new WasmeowError(`compiling wasmeow.wasm from ${where}: ${e?.message ?? e}; is it the wasmeow.wasm that goes with this wasmeow.js, `
      + 'served unaltered? (a server that sends wasmeow.wasm.br without Content-Encoding: br delivers compressed bytes)', 'load_failed');
  }
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
