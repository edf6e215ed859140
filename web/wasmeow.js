// @ts-check
// wasmeow: WhatsApp multi-device (whatsmeow, compiled to WebAssembly) in the browser.
//
// This ES module loads wasmeow.wasm and wasm_exec.js from its own directory
// (new URL('./file', import.meta.url), which bundlers emit as assets), or
// from the wasmURL and wasmExecURL given to loadWasmeow. It works in a page
// and in a Web Worker. Types: wasmeow.d.ts, which this file is checked
// against (tsc --checkJs in web/test/types.test.js): the JSDoc below names its types.

/** @typedef {import('./wasmeow.js').ErrorCode} ErrorCode */
/** @typedef {import('./wasmeow.js').LoadOptions} LoadOptions */
/** @typedef {import('./wasmeow.js').LoadProgress} LoadProgress */
/** @typedef {import('./wasmeow.js').ClientOptions} ClientOptions */
/** @typedef {import('./wasmeow.js').ListOptions} ListOptions */
/** @typedef {import('./wasmeow.js').ImportOptions} ImportOptions */
/** @typedef {import('./wasmeow.js').ExportOptions} ExportOptions */
/** @typedef {import('./wasmeow.js').CredsView} CredsView */
/** @typedef {import('./wasmeow.js').Events} Events */
/** @typedef {import('./wasmeow.js').WasmeowError} WasmeowErrorDecl */
/** @typedef {import('./wasmeow.js').WasmeowModule} WasmeowModuleDecl */
/** @typedef {import('./wasmeow.js').Client} ClientDecl */
/** @typedef {import('./wasmeow.js').MessageContent} MessageContent */
/** @typedef {import('./wasmeow.js').MessageKey} MessageKey */
/** @typedef {import('./wasmeow.js').OnWhatsApp} OnWhatsApp */
/** @typedef {import('./wasmeow.js').UserInfo} UserInfo */
/** @typedef {import('./wasmeow.js').Contact} Contact */
/** @typedef {import('./wasmeow.js').GroupInfo} GroupInfo */
/** @typedef {import('./wasmeow.js').GroupParticipant} GroupParticipant */
/** @typedef {import('./wasmeow.js').BaileysAuthData} BaileysAuthData */
/** @typedef {import('./wasmeow.js').BaileysFiles} BaileysFiles */
/** @typedef {import('./wasmeow.js').BaileysImportReport} BaileysImportReport */
/** @typedef {import('./wasmeow.js').BaileysExport} BaileysExport */
/**
 * What the Go program hands over (jsbridge values: its functions return a
 * value or an Error, or a promise): untyped.
 * @typedef {any} GoObject
 */
/** @typedef {{ exited: boolean }} ProgramState */

const EVENTS = ['qr', 'pairing_code', 'authenticated', 'auth_failure', 'ready', 'creds.update',
  'disconnected', 'reconnecting', 'logged_out', 'message', 'remote_session_saved', 'error',
  'receipt', 'presence', 'chat_presence', 'group.update',
  'history_sync', 'contacts.update', 'chats.update'];

// The longest delay setTimeout honours.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// describe names a bad argument in an error message without calling its
// (possibly hostile) toString.
/** @param {unknown} v */
function describe(v) {
  if (typeof v === 'number') return String(v);
  return typeName(v);
}

// typeName is describe without the value, for arguments that may be secret
// (a passphrase given as a number).
/** @param {unknown} v */
function typeName(v) {
  if (v === null) return 'null';
  try { if (Array.isArray(v)) return 'an array'; } catch { /* a revoked Proxy */ }
  return `a ${typeof v}`;
}

/**
 * An Error raised by wasmeow; `code` says what kind (see wasmeow.d.ts).
 * @implements {WasmeowErrorDecl}
 */
export class WasmeowError extends Error {
  /**
   * @param {string} message
   * @param {ErrorCode | (string & {})} code
   */
  constructor(message, code) {
    super(message);
    this.name = 'WasmeowError';
    this.code = code;
  }
}

/**
 * @param {unknown} e
 * @returns {WasmeowError}
 */
function toWasmeowError(e) {
  if (e instanceof WasmeowError) return e;
  if (e instanceof Error) {
    // An Error from Go (jsbridge) carries its code.
    return new WasmeowError(e.message, /** @type {Error & { code?: string }} */ (e).code || 'internal');
  }
  return new WasmeowError(String(e), 'internal');
}

// Go cannot throw into JS; its synchronous functions return an Error value instead.
/**
 * @param {any} v
 * @returns {any}
 */
function unwrapSync(v) {
  if (v instanceof Error) throw toWasmeowError(v);
  return v;
}

/** @type {Promise<WasmeowModule> | null} */
let loading = null;
/** @type {LoadOptions | null} */
let loadedWith = null; // the options of the load in progress or done

const LOAD_OPTIONS = ['wasmURL', 'wasmExecURL', 'waVersion', 'socketURL', 'trustRootKey', 'mediaProxyURL', 'onProgress'];
// The options that set the page-wide state of the loaded program: a second call may repeat them, not change them.
const PAGE_OPTIONS = /** @type {const} */ (['wasmURL', 'wasmExecURL', 'waVersion', 'socketURL', 'trustRootKey', 'mediaProxyURL']);

// The asset URLs, written the way bundlers (Vite, webpack, Parcel, Rollup
// plugins) recognise, emit and rewrite: new URL('./literal', import.meta.url).
// Called only when no explicit URL is given: an IIFE or CommonJS bundle has
// no import.meta.url, and new URL would throw "Invalid URL".
const defaultWasmURL = () => new URL('./wasmeow.wasm', import.meta.url);
const defaultExecURL = () => new URL('./wasm_exec.js', import.meta.url);

/** @type {(v: unknown) => v is Response} */
const isResponse = (v) => typeof Response === 'function' && v instanceof Response;
// Not a type guard: WebAssembly.Module has no members, so every object would
// pass for one and the guard's false branch would narrow to never.
/** @type {(v: unknown) => boolean} */
const isModule = (v) => v instanceof WebAssembly.Module;
/** @type {(v: unknown) => v is string | URL} */
const isURLText = (v) => typeof v === 'string' || (typeof URL === 'function' && v instanceof URL);

/** @param {unknown} v */
function show(v) {
  if (v === undefined) return 'none';
  if (isURLText(v)) return JSON.stringify(String(v));
  if (isResponse(v)) return 'a Response';
  if (isModule(v)) return 'a WebAssembly.Module';
  return describe(v);
}

/**
 * @param {any} options what the page passed
 * @returns {LoadOptions}
 */
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
  if (o.socketURL !== undefined && (typeof o.socketURL !== 'string' || !/^wss?:\/\/[^/?#]/.test(o.socketURL))) {
    throw new WasmeowError(`loadWasmeow: option socketURL must be a ws:// or wss:// URL, got ${describe(o.socketURL)}`, 'invalid_option');
  }
  if (o.mediaProxyURL !== undefined && o.mediaProxyURL !== false && (typeof o.mediaProxyURL !== 'string' || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(o.mediaProxyURL))) {
    throw new WasmeowError(`loadWasmeow: option mediaProxyURL must be an http:// or https:// URL (a relay's /media/) or false, got ${describe(o.mediaProxyURL)}`, 'invalid_option');
  }
  if (o.trustRootKey !== undefined) {
    const key = rootKeyBytes(o.trustRootKey);
    if (!key) throw new WasmeowError(`loadWasmeow: option trustRootKey must be a 32-byte key (base64 string or Uint8Array), got ${describe(o.trustRootKey)}`, 'invalid_option');
    o.trustRootKey = key; // a copy: the page may reuse its array; and base64 or bytes compare alike
  }
  return o;
}

/**
 * A root key's 32 bytes from a Uint8Array or a base64 string (standard or URL-safe), or null.
 * @param {unknown} v
 * @returns {Uint8Array | null}
 */
function rootKeyBytes(v) {
  let bytes = null;
  if (v instanceof Uint8Array) bytes = v.slice();
  if (typeof v === 'string') {
    try {
      const b64 = v.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
      bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    } catch { /* not base64 */ }
  }
  return bytes && bytes.length === 32 ? bytes : null;
}

/** @type {(a: unknown, b: unknown) => boolean} */
const sameBytes = (a, b) => a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);

// Two option values are the same when they are the same object, URLs/strings with the same text, or equal bytes.
/** @type {(a: unknown, b: unknown) => boolean} */
const sameOption = (a, b) => a === b || (isURLText(a) && isURLText(b) && String(a) === String(b)) || sameBytes(a, b);

/**
 * Loads and starts the wasm program once per page or worker. A later call
 * with no options, or the same ones, returns the same module; one that asks
 * for another wasmURL, wasmExecURL, waVersion, socketURL or trustRootKey
 * rejects with invalid_option.
 * @param {LoadOptions} [options]
 * @returns {Promise<WasmeowModule>}
 */
export function loadWasmeow(options = {}) {
  /** @type {LoadOptions} */
  let opts;
  try { opts = checkLoadOptions(options); } catch (e) { return Promise.reject(e); }
  if (loading) {
    const prev = /** @type {LoadOptions} */ (loadedWith); // set with loading
    for (const k of PAGE_OPTIONS) {
      if (opts[k] !== undefined && !sameOption(opts[k], prev[k])) {
        return Promise.reject(new WasmeowError(`loadWasmeow: wasmeow is already loaded in this page or worker with ${k} ${show(prev[k])}; `
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
/**
 * @param {string | URL | undefined} given
 * @param {() => URL} fallback
 * @param {string} option
 * @param {string} file
 * @returns {URL}
 */
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

// The global object, untyped: Go's runtime (globalThis.Go), the ready
// callback and importScripts live on it.
const host = /** @type {any} */ (globalThis);

/**
 * @param {LoadOptions} options
 * @returns {Promise<WasmeowModule>}
 */
async function start(options) {
  const t0 = performance.now();
  let wasm = options.wasmURL;
  if (wasm !== undefined && !isURLText(wasm) && !isResponse(wasm) && !isModule(wasm)) wasm = await wasm; // a promise of a Response
  if (wasm === undefined || isURLText(wasm)) wasm = resolveAsset(wasm, defaultWasmURL, 'wasmURL', 'wasmeow.wasm');
  // The module is downloaded and compiled while Go's runtime script loads,
  // not after it: compiling needs no imports, only instantiating does.
  const onProgress = options.onProgress;
  const compiled = fetchWasm(wasm).then((src) => compile(src, onProgress));
  compiled.catch(() => {}); // reported where it is awaited, below
  if (typeof host.Go !== 'function') {
    await loadGoRuntime(resolveAsset(options.wasmExecURL, defaultExecURL, 'wasmExecURL', 'wasm_exec.js'));
  }
  const go = new host.Go();
  const key = `__wasmeow_ready_${Math.random().toString(36).slice(2)}`;
  /** @type {Promise<GoObject>} */
  const ready = new Promise((resolve) => { host[key] = resolve; });
  go.argv = ['wasmeow', key];
  const instance = await instantiate(await compiled, go.importObject);
  const exited = go.run(instance);
  const state = { exited: false };
  const api = await Promise.race([
    ready,
    exited.then(() => { throw new WasmeowError('the wasmeow program exited while starting', 'exited'); }),
  ]);
  delete host[key];
  unwrapSync(api.useFastCalls(fastCalls(/** @type {WebAssembly.Memory} */ (instance.exports.mem))));
  // Page-wide settings must be in place before any client connects.
  unwrapSync(api.configure({ waVersion: options.waVersion, socketURL: options.socketURL, trustRootKey: options.trustRootKey, mediaProxyURL: options.mediaProxyURL }));
  exited.then(() => { state.exited = true; });
  return new WasmeowModule(api, state, performance.now() - t0);
}

// loadGoRuntime runs Go's wasm_exec.js, a classic script that defines
// globalThis.Go: importing it runs it, in pages and (module or classic)
// workers alike; a classic worker without import() gets importScripts.
/** @param {URL} url */
async function loadGoRuntime(url) {
  /** @type {unknown} */
  let err;
  try {
    await import(/* @vite-ignore */ /* webpackIgnore: true */ url.href);
  } catch (e) {
    err = e;
    if (typeof host.importScripts === 'function') {
      try { host.importScripts(url.href); } catch { /* report the import's error */ }
    }
  }
  if (typeof host.Go === 'function') return;
  if (err) throw await diagnose(url, 'wasm_exec.js', 'wasmExecURL', err);
  throw new WasmeowError(`${url.href} ran but did not define Go: is it Go's wasm_exec.js, from the Go that built wasmeow.wasm?`, 'load_failed');
}

/** @type {(res: Response) => string} */
const mime = (res) => (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();

// fetchFailed names the likely cause of a fetch that threw (no HTTP answer at all).
/**
 * @param {URL} url
 * @param {string} file
 * @param {any} e what fetch threw
 */
function fetchFailed(url, file, e) {
  const here = globalThis.location?.origin;
  const cause = here && url.origin !== here
    ? `it is on another origin (${url.origin}) than this page (${here}): its server must allow this origin with `
      + `Access-Control-Allow-Origin (CORS), or the server is unreachable`
    : 'the server is unreachable';
  return new WasmeowError(`loading ${file} from ${url.href} failed (${e?.message ?? e}): ${cause}`, 'load_failed');
}

// httpFailed names the likely cause of an answer that is not the file.
/**
 * @param {Response} res
 * @param {string} where
 * @param {string} file
 * @param {string} option
 * @returns {WasmeowError | null}
 */
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
/**
 * @param {URL} url
 * @param {string} file
 * @param {string} option
 * @param {any} err what the import threw
 * @returns {Promise<WasmeowError>}
 */
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

// counted reports the download of res to onProgress, chunk by chunk, from
// a clone of it: res itself goes to the compiler, as the browser's own
// Response, since chromium caches the compiled code of a module only for a
// Response with a URL (one built with new Response() has none). total is the
// Content-Length when it counts the bytes read (no Content-Encoding), else
// null.
/**
 * @param {Response} res
 * @param {((progress: LoadProgress) => void) | undefined} onProgress
 */
function counted(res, onProgress) {
  if (!onProgress || !res.body) return;
  const len = Number(res.headers.get('content-length'));
  let total = !res.headers.get('content-encoding') && len > 0 ? len : null;
  let loaded = 0;
  const report = () => { try { onProgress({ loaded, total }); } catch (e) { console.error('wasmeow: onProgress threw', e); } };
  const reader = /** @type {ReadableStream<Uint8Array>} */ (res.clone().body).getReader();
  report();
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        total = loaded;
        report();
        return;
      }
      loaded += value.byteLength;
      if (total !== null && loaded > total) total = null; // a compressed length we could not see
      report();
    }
  })().catch(() => {}); // a failed download fails the compile, which reports it
}

// fetchWasm starts the download of the module given as a URL; a Response
// or a compiled Module given by the page is returned as it is. where names
// the source in errors.
/**
 * @typedef {{ module: WebAssembly.Module } | { res: Response, where: string }} WasmSource
 * @param {URL | Response | WebAssembly.Module} src
 * @returns {Promise<WasmSource>}
 */
async function fetchWasm(src) {
  if (isModule(src)) return { module: /** @type {WebAssembly.Module} */ (src) };
  if (isResponse(src)) {
    const res = /** @type {Response} */ (src);
    if (res.bodyUsed) throw new WasmeowError('loadWasmeow: the Response given as wasmURL has already been read', 'invalid_option');
    return { res, where: res.url || 'the Response given as wasmURL' };
  }
  const from = /** @type {URL} */ (src);
  try { return { res: await fetch(from), where: from.href }; } catch (e) { throw fetchFailed(from, 'wasmeow.wasm', e); }
}

/**
 * @param {WasmSource} src
 * @param {((progress: LoadProgress) => void) | undefined} onProgress
 * @returns {Promise<WebAssembly.Module>}
 */
async function compile(src, onProgress) {
  if ('module' in src) return src.module;
  const { res, where } = src;
  const bad = httpFailed(res, where, 'wasmeow.wasm', 'wasmURL');
  if (bad) throw bad;
  const type = mime(res);
  counted(res, onProgress);
  try {
    if (type === 'application/wasm' && typeof WebAssembly.compileStreaming === 'function') {
      return await WebAssembly.compileStreaming(res); // compiles while downloading
    }
    console.info(`wasmeow: ${where} is served as ${type || 'no Content-Type'}, not application/wasm, so it is compiled only after `
      + 'the whole download; serve .wasm files as application/wasm to compile while downloading');
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!(bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
      const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
      throw new WasmeowError(`loading wasmeow.wasm from ${where}: ${text.startsWith('<') ? 'got an HTML page' : 'the body is not WebAssembly'} `
        + `(${bytes.length} bytes, served as ${type || 'no Content-Type'}); check that wasmURL points at wasmeow.wasm`, 'load_failed');
    }
    return await WebAssembly.compile(bytes);
  } catch (/** @type {any} */ e) {
    if (e instanceof WasmeowError) throw e;
    throw new WasmeowError(`compiling wasmeow.wasm from ${where}: ${e?.message ?? e}; is it the wasmeow.wasm that goes with this wasmeow.js, `
      + 'served unaltered? (a server that sends wasmeow.wasm.br without Content-Encoding: br delivers compressed bytes)', 'load_failed');
  }
}

// BEGIN fastCalls: the Go side's hot calls, each one crossing from wasm to JS
// instead of one per record or several per frame. It is static code (no
// eval, so a CSP without 'unsafe-eval' allows it), handed to the Go program
// at start-up (api.useFastCalls); without it (Go tests run without this file)
// the Go side makes the same calls one by one. kv/idbkv's Go tests evaluate
// the text between these markers: keep it one self-contained function.
/**
 * @param {WebAssembly.Memory | null} memory the Go program's linear memory
 * @returns {any}
 */
function fastCalls(memory) {
  // Records and keys of a batch arrive in one Uint8Array: a header of n
  // little-endian uint32 triples (store index, key length, value length or
  // DELETE), then every key and value, in op order.
  const DELETE = 0xffffffff;
  return {
    /**
     * One readwrite transaction with every op of a commit. Returns the
     * transaction (the Go side aborts it when its context ends); done(ok,
     * failedOp) is called once: ok whether it completed, and if it aborted the
     * index of the first op whose request failed (-1: none, e.g. a quota
     * failure at commit time; the Go side reads the transaction's error).
     * Booleans and numbers reach Go without a further call. A throw is
     * rethrown as {op, error, started}: op the index of the op that threw (-1:
     * none); if the transaction started, it is aborted and done follows.
     * @param {IDBDatabase} db @param {string} stores the store names, joined by NUL @param {IDBTransactionDurability} durability
     * @param {Uint8Array<ArrayBuffer>} buf @param {number} n @param {(ok: boolean, failedOp: number) => void} done
     */
    idbCommit(db, stores, durability, buf, n, done) {
      /** @type {IDBTransaction} */
      let tx;
      const names = stores.split('\0');
      try { tx = db.transaction(names, 'readwrite', { durability }); } catch (error) { throw { op: -1, error, started: false }; }
      /** @type {IDBRequest[]} */
      const reqs = new Array(n);
      let failed = -1;
      // Request errors bubble here; requests cut short by the abort report
      // AbortError: effects, not the cause.
      tx.onerror = (ev) => {
        const req = /** @type {IDBRequest} */ (ev.target);
        if (failed < 0 && req !== /** @type {unknown} */ (tx) && req.error?.name !== 'AbortError') failed = reqs.indexOf(req);
      };
      tx.oncomplete = () => done(true, -1);
      tx.onabort = () => done(false, failed);
      let i = -1;
      try {
        const os = names.map((s) => tx.objectStore(s));
        const hdr = new DataView(buf.buffer, buf.byteOffset, 12 * n);
        let off = 12 * n;
        for (i = 0; i < n; i++) {
          const st = os[hdr.getUint32(12 * i, true)];
          const kl = hdr.getUint32(12 * i + 4, true);
          const vl = hdr.getUint32(12 * i + 8, true);
          // A key view is enough (IndexedDB copies key bytes); a value gets
          // its own buffer, or the record would hold the whole batch.
          const key = buf.subarray(off, off + kl);
          off += kl;
          if (vl === DELETE) {
            reqs[i] = st.delete(key);
          } else {
            reqs[i] = st.put(buf.slice(off, off + vl), key);
            off += vl;
          }
        }
      } catch (error) {
        try { tx.abort(); } catch { /* already ending */ }
        throw { op: i, error, started: true };
      }
      return tx;
    },
    /**
     * Reads n keys (a header of n uint32 key lengths, then the keys) in one
     * readonly transaction. Returns the transaction; done(ok, values, lengths,
     * badRecord): if it completed, values holds every value found and lengths
     * (uint32s) its length per key, DELETE where absent; badRecord is the index
     * of a record that is not bytes (-1: none).
     * @param {IDBDatabase} db @param {string} store @param {Uint8Array<ArrayBuffer>} buf @param {number} n
     * @param {(ok: boolean, values: Uint8Array | null, lengths: Uint8Array | null, badRecord: number) => void} done
     */
    idbGet(db, store, buf, n, done) {
      /** @type {IDBTransaction} */
      let tx;
      try { tx = db.transaction(store, 'readonly'); } catch (error) { throw { op: -1, error, started: false }; }
      /** @type {IDBRequest[]} */
      const reqs = new Array(n);
      tx.onabort = () => done(false, null, null, -1);
      tx.oncomplete = () => {
        // done must be called whatever happens here (an allocation failing
        // under memory pressure): the Go side waits for it, and no abort
        // event follows a completed transaction. -2: gathering failed.
        let out, lens;
        try {
          lens = new Uint8Array(4 * n);
          const lv = new DataView(lens.buffer); // little-endian, as the Go side reads it
          /** @type {Uint8Array[]} */
          const vals = [];
          let total = 0;
          for (let i = 0; i < n; i++) {
            let v = reqs[i].result;
            if (v === undefined) { lv.setUint32(4 * i, DELETE, true); continue; }
            if (v instanceof ArrayBuffer) v = new Uint8Array(v);
            if (!(v instanceof Uint8Array)) { done(true, null, null, i); return; }
            lv.setUint32(4 * i, v.length, true);
            total += v.length;
            vals.push(v);
          }
          out = new Uint8Array(total);
          let at = 0;
          for (const v of vals) { out.set(v, at); at += v.length; }
        } catch {
          done(true, null, null, -2);
          return;
        }
        done(true, out, lens, -1);
      };
      let i = -1;
      try {
        const st = tx.objectStore(store);
        const hdr = new DataView(buf.buffer, buf.byteOffset, 4 * n);
        let off = 4 * n;
        for (i = 0; i < n; i++) {
          const kl = hdr.getUint32(4 * i, true);
          reqs[i] = st.get(buf.subarray(off, off + kl));
          off += kl;
        }
      } catch (error) {
        try { tx.abort(); } catch { /* already ending */ }
        throw { op: i, error, started: true };
      }
      return tx;
    },
    /**
     * Sends a binary frame straight from the Go program's memory: send copies
     * the bytes before it returns, and the view is made at the call, so a
     * memory grown (its old buffer detached) since is never read.
     * @param {WebSocket} ws @param {number} ptr @param {number} len
     */
    wsSend(ws, ptr, len) {
      if (!memory) throw new Error('wsSend: no memory');
      // slice: one native copy, so the frame never depends on send copying
      // the view at once (browsers do; a page's WebSocket wrapper, such as a
      // test tool's mock, may keep it for later).
      ws.send(new Uint8Array(memory.buffer, ptr, len).slice());
    },
    /**
     * A message listener that hands fn the data as it arrived: a string
     * (length -1), or the bytes as a Uint8Array and their length.
     * @param {(data: string | Uint8Array, length: number) => void} fn
     * @returns {(ev: MessageEvent) => void}
     */
    wsOnMessage(fn) {
      return (ev) => {
        const d = ev.data;
        if (typeof d === 'string') fn(d, -1);
        else fn(new Uint8Array(d), d.byteLength);
      };
    },
  };
}
// END fastCalls

// instantiate links the compiled module to Go's runtime (wasm_exec.js).
/**
 * @param {WebAssembly.Module} module
 * @param {WebAssembly.Imports} imports
 * @returns {Promise<WebAssembly.Instance>}
 */
async function instantiate(module, imports) {
  try {
    return await WebAssembly.instantiate(module, imports);
  } catch (/** @type {any} */ e) {
    throw new WasmeowError(`instantiating wasmeow.wasm: ${e?.message ?? e}; is wasm_exec.js the one of the Go that built this wasmeow.wasm, `
      + 'and wasmeow.wasm the one that goes with this wasmeow.js?', 'load_failed');
  }
}

/** @implements {WasmeowModuleDecl} */
export class WasmeowModule {
  /** @type {GoObject} */
  #api;
  /** @type {ProgramState} */
  #state;
  /**
   * @param {GoObject} api
   * @param {ProgramState} state
   * @param {number} startMs
   */
  constructor(api, state, startMs) {
    this.#api = api;
    this.#state = state;
    /** Milliseconds from fetching the wasm to the Go program being ready. */
    this.startMs = startMs;
    /** @type {string} */
    this.version = api.version;
  }

  #check() {
    if (this.#state.exited) throw new WasmeowError('the wasmeow program has exited; reload the page', 'exited');
  }

  /**
   * @param {ClientOptions} [options]
   * @returns {Promise<Client>}
   */
  async createClient(options) {
    this.#check();
    try {
      const h = await this.#api.createClient(options);
      return new Client(h, this.#state);
    } catch (e) {
      throw toWasmeowError(e);
    }
  }

  /**
   * The WhatsApp Web version the next connection announces, e.g. "2.3000.1034270928".
   * @returns {string}
   */
  getWAVersion() {
    this.#check();
    return unwrapSync(this.#api.getWAVersion());
  }

  /**
   * clientIds with a local (IndexedDB) session under dbName.
   * @param {ListOptions} [options]
   * @returns {Promise<string[]>}
   */
  async listSessions(options) {
    this.#check();
    try { return await this.#api.listSessions(options); } catch (e) { throw toWasmeowError(e); }
  }

  /**
   * Deletes a local session that no client has open.
   * @param {string} clientId
   * @param {ListOptions} [options]
   * @returns {Promise<void>}
   */
  async deleteSession(clientId, options) {
    this.#check();
    try { return await this.#api.deleteSession(clientId, options); } catch (e) { throw toWasmeowError(e); }
  }

  /**
   * Makes a snapshot from client.exportSession() the local session clientId (which must not exist).
   * A sealed snapshot (exportSession({passphrase})) needs the same passphrase.
   * @param {string} clientId
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView} data
   * @param {ImportOptions} [options]
   * @returns {Promise<void>}
   */
  async importSession(clientId, data, options) {
    this.#check();
    /** @type {unknown} */
    let passphrase;
    /** @type {unknown} */
    let rest = options;
    try {
      if (options && typeof options === 'object') ({ passphrase, ...rest } = options);
    } catch (e) {
      throw optionsError(e, 'importSession');
    }
    try {
      const bytes = asBytes(data);
      const sealed = bytes instanceof Uint8Array && isSealed(bytes);
      if (sealed && passphrase === undefined) {
        throw new WasmeowError('importSession: this snapshot is sealed: pass options.passphrase', 'wrong_passphrase');
      }
      if (passphrase !== undefined) {
        checkPassphrase(passphrase, 'importSession');
        if (!sealed) throw new WasmeowError('importSession: a passphrase was given but the data is not a sealed snapshot', 'restore_failed');
        return await this.#api.importSession(clientId, await unseal(/** @type {Uint8Array} */ (bytes), /** @type {string} */ (passphrase)), rest);
      }
      return await this.#api.importSession(clientId, data, rest);
    } catch (e) { throw toWasmeowError(e); }
  }

  /**
   * Makes a Baileys auth state the local session clientId (which must not exist), keeping the link.
   * @param {string} clientId
   * @param {BaileysAuthData | BaileysFiles} state
   * @param {ListOptions} [options]
   * @returns {Promise<BaileysImportReport>}
   */
  async importBaileysSession(clientId, state, options) {
    this.#check();
    try { return JSON.parse(await this.#api.importBaileysSession(clientId, baileysStateJSON(state), options)); } catch (e) { throw toWasmeowError(e); }
  }
}

// ---- Moving a Baileys device: importBaileysSession / exportBaileysSession ----
// The Baileys auth state <-> the JSON the Go side reads and writes (byte
// strings in Baileys' BufferJSON form {type: 'Buffer', data: base64}).
/** @param {string} msg */
const badBaileysState = (msg) => new WasmeowError(`importBaileysSession(clientId, state, options?): ${msg}`, 'invalid_option');

/**
 * @param {unknown} state
 * @returns {string}
 */
function baileysStateJSON(state) {
  if (state === null || typeof state !== 'object') throw badBaileysState('state must be {creds, keys} or {files}');
  const { files, creds, keys } = /** @type {{files?: unknown, creds?: unknown, keys?: unknown}} */ (state);
  if (files !== undefined) {
    if (files === null || typeof files !== 'object') throw badBaileysState('state.files must map file names to their text');
    /** @type {Record<string, string>} */
    const text = {};
    for (const [name, v] of Object.entries(files)) {
      if (typeof v === 'string') text[name] = v;
      else if (v instanceof Uint8Array) text[name] = new TextDecoder().decode(v);
      else throw badBaileysState(`state.files[${JSON.stringify(name)}] must be a string or a Uint8Array`);
    }
    return JSON.stringify({ files: text });
  }
  // A SignalKeyStore ({get, set}) cannot list what it holds: JSON would drop it without a word.
  if (keys === null || typeof keys !== 'object' || typeof (/** @type {any} */ (keys).get) === 'function') {
    throw badBaileysState('state.keys must hold the records by type and id ({session: {"15551234567.0": ...}, ...}), not a SignalKeyStore');
  }
  // (A Node Buffer reaches the replacer already as its toJSON {type, data: [...]}, which Go reads too.)
  return JSON.stringify({ creds, keys }, bufferJSONReplacer);
}

// Baileys' BufferJSON: bytes as {type: 'Buffer', data: base64} in JSON (what
// its useMultiFileAuthState writes, and sessionconv reads).
/** @type {(key: string, v: any) => any} */
const bufferJSONReplacer = (_, v) => (v instanceof Uint8Array ? { type: 'Buffer', data: bytesToBase64(v) } : v);
/** @type {(key: string, v: any) => any} */
const bufferJSONReviver = (_, v) => (v !== null && typeof v === 'object' && v.type === 'Buffer' && typeof v.data === 'string'
  ? Uint8Array.from(atob(v.data), (c) => c.charCodeAt(0)) : v);

/**
 * @param {string} text
 * @returns {BaileysExport}
 */
function parseBaileysJSON(text) {
  return JSON.parse(text, bufferJSONReviver);
}

/**
 * Standard base64, in chunks (String.fromCharCode takes a bounded argument list).
 * @param {Uint8Array} v
 * @returns {string}
 */
function bytesToBase64(v) {
  let bin = '';
  for (let i = 0; i < v.length; i += 0x8000) bin += String.fromCharCode.apply(null, Array.from(v.subarray(i, i + 0x8000)));
  return btoa(bin);
}


// ---- Sealed snapshots: exportSession({passphrase}) / importSession(..., {passphrase}) ----
// docs/SNAPSHOT.md, "Sealed snapshots". The snapshot is encrypted with
// AES-256-GCM under a key derived from the passphrase (NFC) by one
// PBKDF2-HMAC-SHA256 run split with HKDF-SHA256 into the key and the
// verifier (WebCrypto), behind a header that names the format version, the
// KDF, its iteration count and the salt, all authenticated as the cipher's
// AAD. Version 1 (never released) is refused.
const SEAL_MAGIC = [0x57, 0x4d, 0x53, 0x45, 0x41, 0x4c]; // "WMSEAL"
const SEAL_VERSION = 2;
const SEAL_KEY_INFO = 'wasmeow sealed snapshot v2 key';
const SEAL_VERIFIER_INFO = 'wasmeow sealed snapshot v2 verifier';
const SEAL_KDF_PBKDF2_SHA256 = 1;
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const SEAL_ITERATIONS = 600000;
/** Bounds of a header's iteration count: a hostile file cannot make import spin for ever. */
const SEAL_MIN_ITERATIONS = 100000;
const SEAL_MAX_ITERATIONS = 10000000;
const SEAL_SALT = 16;
const SEAL_NONCE = 12;
const SEAL_VERIFIER = 32;
const SEAL_HEADER = SEAL_MAGIC.length + 1 + 1 + 4 + SEAL_SALT + SEAL_NONCE + SEAL_VERIFIER;

/**
 * asBytes views an ArrayBuffer or any ArrayBuffer view (DataView, Buffer,
 * another typed array) as a Uint8Array, as the Go side reads them, so that
 * a sealed snapshot is recognised in every form importSession takes.
 * @param {unknown} data @returns {unknown}
 */
function asBytes(data) {
  try {
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch { /* a hostile object: the Go side refuses it, coded */ }
  return data;
}

/** @param {Uint8Array} data */
function isSealed(data) {
  return data.length >= SEAL_MAGIC.length && SEAL_MAGIC.every((b, i) => data[i] === b);
}

/** @returns {SubtleCrypto} */
function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new WasmeowError('a passphrase needs WebCrypto (crypto.subtle), which this context lacks (not a secure context?)', 'invalid_option');
  return s;
}

/**
 * An options object that could not be read (a throwing getter or Proxy) is the caller's error.
 * @param {unknown} e @param {string} where
 */
function optionsError(e, where) {
  if (e instanceof WasmeowError) return e;
  return new WasmeowError(`${where}(options): the options could not be read: ${e instanceof Error ? e.message : String(e)}`, 'invalid_option');
}

/** @param {unknown} passphrase @param {string} where */
function checkPassphrase(passphrase, where) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new WasmeowError(`${where}: passphrase must be a non-empty string, got ${typeName(passphrase)}`, 'invalid_option');
  }
}

/**
 * One PBKDF2 run of 32 bytes over the NFC passphrase, split by HKDF into
 * the AES key and the verifier (in the header: it tells a wrong passphrase
 * from altered data). An attacker pays the same one run per guess.
 * @param {string} passphrase @param {Uint8Array<ArrayBuffer>} salt @param {number} iterations
 * @returns {Promise<{ key: CryptoKey, verifier: Uint8Array }>}
 */
async function sealKeys(passphrase, salt, iterations) {
  const s = subtle();
  const base = await s.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const prk = await s.importKey('raw', await s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256), 'HKDF', false, ['deriveBits']);
  const split = async (/** @type {string} */ info) => s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(info) }, prk, 256);
  const key = await s.importKey('raw', await split(SEAL_KEY_INFO), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { key, verifier: new Uint8Array(await split(SEAL_VERIFIER_INFO)) };
}

/** @param {Uint8Array} data @param {string} passphrase @returns {Promise<Uint8Array>} */
async function seal(data, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(SEAL_SALT));
  const nonce = crypto.getRandomValues(new Uint8Array(SEAL_NONCE));
  const { key, verifier } = await sealKeys(passphrase, salt, SEAL_ITERATIONS);
  const header = new Uint8Array(SEAL_HEADER);
  let o = 0;
  header.set(SEAL_MAGIC, o); o += SEAL_MAGIC.length;
  header[o++] = SEAL_VERSION;
  header[o++] = SEAL_KDF_PBKDF2_SHA256;
  new DataView(header.buffer).setUint32(o, SEAL_ITERATIONS); o += 4;
  header.set(salt, o); o += SEAL_SALT;
  header.set(nonce, o); o += SEAL_NONCE;
  header.set(verifier, o);
  const body = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: header }, key, new Uint8Array(data)));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** @param {Uint8Array} data @param {string} passphrase @returns {Promise<Uint8Array>} */
async function unseal(data, passphrase) {
  const bad = (/** @type {string} */ why) => new WasmeowError(`importSession: ${why}`, 'restore_failed');
  if (data.length < SEAL_HEADER + 16) throw bad('the sealed snapshot is truncated');
  let o = SEAL_MAGIC.length;
  const version = data[o++];
  if (version === 1) throw bad(`sealed snapshot version 1, a development format this build no longer reads (it reads version ${SEAL_VERSION}): export the session again`);
  if (version !== SEAL_VERSION) throw bad(`sealed snapshot version ${version}: this build reads version ${SEAL_VERSION}`);
  const kdf = data[o++];
  if (kdf !== SEAL_KDF_PBKDF2_SHA256) throw bad(`unknown key derivation ${kdf} in the sealed snapshot`);
  const iterations = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(o); o += 4;
  if (iterations < SEAL_MIN_ITERATIONS || iterations > SEAL_MAX_ITERATIONS) {
    throw bad(`the sealed snapshot asks for ${iterations} PBKDF2 iterations (accepted: ${SEAL_MIN_ITERATIONS} to ${SEAL_MAX_ITERATIONS})`);
  }
  const salt = data.slice(o, o += SEAL_SALT);
  const nonce = data.slice(o, o += SEAL_NONCE);
  const stored = data.slice(o, o += SEAL_VERIFIER);
  const { key, verifier } = await sealKeys(passphrase, salt, iterations);
  if (!verifier.every((b, i) => b === stored[i])) {
    throw new WasmeowError('importSession: wrong passphrase for this sealed snapshot', 'wrong_passphrase');
  }
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: nonce, additionalData: data.slice(0, SEAL_HEADER) }, key, data.slice(SEAL_HEADER)));
  } catch {
    throw bad('the sealed snapshot was altered (its authentication tag does not match)');
  }
}

/** @implements {ClientDecl} */
export class Client {
  /** @type {GoObject} */
  #h;
  /** @type {ProgramState} */
  #state;
  /**
   * @param {GoObject} handle
   * @param {ProgramState} state
   */
  constructor(handle, state) {
    this.#h = handle;
    this.#state = state;
    /** @type {string} */
    this.clientId = handle.clientId;
    /** @type {ClientDecl['strategy']} */
    this.strategy = handle.strategy;
  }

  #check() {
    if (this.#state.exited) throw new WasmeowError('the wasmeow program has exited; reload the page', 'exited');
  }

  /**
   * @param {string} name
   * @param {...unknown} args
   * @returns {Promise<any>}
   */
  async #call(name, ...args) {
    this.#check();
    try { return await this.#h[name](...args); } catch (e) { throw toWasmeowError(e); }
  }

  /** @param {string} name */
  #sync(name) {
    this.#check();
    return unwrapSync(this.#h[name]());
  }

  /**
   * @template {keyof Events} E
   * @param {E} event
   * @param {(payload: Events[E]) => void} listener
   * @returns {this}
   */
  on(event, listener) { this.#listen('on', event, listener); return this; }
  /**
   * @template {keyof Events} E
   * @param {E} event
   * @param {(payload: Events[E]) => void} listener
   * @returns {this}
   */
  once(event, listener) { this.#listen('once', event, listener); return this; }
  /**
   * @template {keyof Events} E
   * @param {E} event
   * @param {(payload: Events[E]) => void} listener
   * @returns {this}
   */
  off(event, listener) { this.#check(); unwrapSync(this.#h.off(event, listener)); return this; }

  /**
   * @param {'on' | 'once'} how
   * @param {unknown} event checked here: the page may pass anything
   * @param {Function} listener
   */
  #listen(how, event, listener) {
    this.#check();
    if (typeof event !== 'string' || !EVENTS.includes(event)) {
      const name = typeof event === 'string' ? JSON.stringify(event) : describe(event);
      throw new WasmeowError(`unknown event ${name} (known: ${EVENTS.join(', ')})`, 'invalid_option');
    }
    unwrapSync(this.#h[how](event, listener));
  }

  /**
   * Resolves with the next `event`, or rejects after timeoutMs.
   * @template {keyof Events} E
   * @param {E} event
   * @param {number} [timeoutMs]
   * @returns {Promise<Events[E]>}
   */
  waitFor(event, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      // setTimeout reads NaN, 'abc' and anything above 2^31-1 ms as 0: check first.
      if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
        throw new WasmeowError(`waitFor(event, timeoutMs): timeoutMs must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got ${describe(timeoutMs)}`, 'invalid_option');
      }
      /** @param {Events[E]} payload */
      const onEvent = (payload) => { clearTimeout(t); resolve(payload); };
      this.once(event, onEvent); // throws (rejecting) on an unknown event, before any timer
      const t = setTimeout(() => {
        try { this.off(event, onEvent); } catch { /* the program exited: reject all the same */ }
        reject(new WasmeowError(`no ${event} event within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
    });
  }

  /** @returns {Promise<void>} */
  connect() { return this.#call('connect'); }
  /** @param {string} phone @returns {Promise<string>} */
  requestPairingCode(phone) { return this.#call('requestPairingCode', phone); }
  /** @param {string} jid @param {string} text @returns {Promise<string>} */
  sendText(jid, text) { return this.#call('sendText', jid, text); }
  /** @param {{ media?: import('./wasmeow.d.ts').MediaInfo }} message @returns {Promise<Uint8Array>} */
  downloadMedia(message) { return this.#call('downloadMedia', message); }
  /**
   * The session's snapshot; with a passphrase, sealed (encrypted) with it.
   * @param {ExportOptions} [options]
   * @returns {Promise<Uint8Array>}
   */
  async exportSession(options) {
    /** @type {unknown} */
    let passphrase;
    try {
      if (options !== undefined && (options === null || typeof options !== 'object')) {
        throw new WasmeowError(`exportSession(options): options must be an object, got ${describe(options)}`, 'invalid_option');
      }
      for (const k of Object.keys(options || {})) {
        if (k !== 'passphrase') throw new WasmeowError(`exportSession: unknown option ${k} (known: passphrase)`, 'invalid_option');
      }
      passphrase = options?.passphrase;
      if (passphrase !== undefined) checkPassphrase(passphrase, 'exportSession');
    } catch (e) {
      throw optionsError(e, 'exportSession');
    }
    const data = await this.#call('exportSession');
    if (passphrase === undefined) return data;
    try { return await seal(data, /** @type {string} */ (passphrase)); } catch (e) { throw toWasmeowError(e); }
  }
  /** @returns {Promise<BaileysExport>} */
  async exportBaileysSession() { return parseBaileysJSON(await this.#call('exportBaileysSession')); }
  /** @returns {Promise<void>} */
  logout() { return this.#call('logout'); }
  /** @returns {Promise<void>} */
  disconnect() { return this.#call('disconnect'); }
  /** @returns {Promise<void>} */
  destroy() { return this.#call('destroy'); }
  /** @returns {CredsView} */
  getCreds() { return this.#sync('getCreds'); }

  // ---- messages, receipts, presence, contacts, groups (core/calls.go) ----
  // Each argument goes to Go as JSON, where it is checked.

  /**
   * @param {string} name
   * @param {...unknown} args
   * @returns {Promise<any>}
   */
  async #json(name, ...args) {
    this.#check();
    const json = args.map((a, i) => {
      try {
        return JSON.stringify(a) ?? 'null';
      } catch (e) {
        throw new WasmeowError(`${name}: argument ${i + 1} cannot be serialised (${e instanceof Error ? e.message : 'it threw'})`, 'invalid_option');
      }
    });
    return this.#call(name, ...json);
  }

  /** @param {string} jid @param {MessageContent} content @returns {Promise<MessageKey>} */
  async sendMessage(jid, content) { return this.#json('sendMessage', jid, await mediaAsBase64(content)); }
  /** @param {string} chat @param {string[]} ids @param {string} [sender] @returns {Promise<void>} */
  markRead(chat, ids, sender) { return this.#json('markRead', chat, ids, sender); }
  /** @param {'available' | 'unavailable'} state @returns {Promise<void>} */
  sendPresence(state) { return this.#json('sendPresence', state); }
  /** @param {string} jid @returns {Promise<void>} */
  subscribePresence(jid) { return this.#json('subscribePresence', jid); }
  /** @param {string} jid @param {'composing' | 'paused' | 'recording'} state @returns {Promise<void>} */
  sendChatPresence(jid, state) { return this.#json('sendChatPresence', jid, state); }
  /** @param {string[]} phones @returns {Promise<OnWhatsApp[]>} */
  isOnWhatsApp(phones) { return this.#json('isOnWhatsApp', phones); }
  /** @param {string[]} jids @returns {Promise<UserInfo[]>} */
  getUserInfo(jids) { return this.#json('getUserInfo', jids); }
  /** @param {string} jid @returns {Promise<string | null>} */
  getProfilePicture(jid) { return this.#json('getProfilePicture', jid); }
  /** @returns {Promise<Contact[]>} */
  getContacts() { return this.#json('getContacts'); }
  /** @param {string} name @param {string[]} participants @returns {Promise<GroupInfo>} */
  createGroup(name, participants) { return this.#json('createGroup', name, participants); }
  /** @returns {Promise<GroupInfo[]>} */
  getJoinedGroups() { return this.#json('getJoinedGroups'); }
  /** @param {string} jid @returns {Promise<GroupInfo>} */
  getGroupInfo(jid) { return this.#json('getGroupInfo', jid); }
  /**
   * @param {string} jid @param {'add' | 'remove' | 'promote' | 'demote'} action @param {string[]} participants
   * @returns {Promise<GroupParticipant[]>}
   */
  updateGroupParticipants(jid, action, participants) { return this.#json('updateGroupParticipants', jid, action, participants); }
  /** @param {string} jid @param {string} name @returns {Promise<void>} */
  setGroupName(jid, name) { return this.#json('setGroupName', jid, name); }
  /** @param {string} jid @param {string} topic @returns {Promise<void>} */
  setGroupTopic(jid, topic) { return this.#json('setGroupTopic', jid, topic); }
  /** @param {string} jid @returns {Promise<void>} */
  leaveGroup(jid) { return this.#json('leaveGroup', jid); }
  /** @param {string} jid @param {boolean} [reset] @returns {Promise<string>} */
  getGroupInviteLink(jid, reset) { return this.#json('getGroupInviteLink', jid, reset); }
  /** @param {string} link @returns {Promise<string>} */
  joinGroupWithLink(link) { return this.#json('joinGroupWithLink', link); }

  /** @returns {ClientDecl['state']} */
  get state() { this.#check(); return unwrapSync(this.#h.getState()); }
  /** @returns {boolean} */
  get isConnected() { return this.#sync('isConnected'); }
  /** @returns {boolean} */
  get isLoggedIn() { return this.#sync('isLoggedIn'); }
}

const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'];

/**
 * sendMessage's content with its media file (a Blob, or bytes) as base64, the form
 * JSON carries bytes in (Go decodes it into []byte).
 * @param {any} content
 * @returns {Promise<any>}
 */
async function mediaAsBase64(content) {
  if (content === null || typeof content !== 'object') return content;
  try {
    const kind = MEDIA_KINDS.find((k) => content[k] !== undefined && content[k] !== null);
    if (!kind) return content;
    let v = content[kind];
    if (typeof Blob === 'function' && v instanceof Blob) v = new Uint8Array(await v.arrayBuffer());
    else if (v instanceof ArrayBuffer) v = new Uint8Array(v);
    else if (ArrayBuffer.isView(v)) v = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    else return content; // Go says what is wrong with it
    return { ...content, [kind]: bytesToBase64(v) };
  } catch (e) {
    throw new WasmeowError(`sendMessage(jid, content): reading content failed: ${describe(e)}`, 'invalid_option');
  }
}

// ---- the session service for a fleet (cmd/wasmeow-sessiond, docs/FLEET.md) ----
// httpKeyStore and httpRemoteStore are the custom and remote strategies'
// stores kept by the session service, with a lease per session (one holder
// across every machine, a fence on every write) and, optionally, values
// sealed in the page so the service holds ciphertext only.

/** @typedef {import('./wasmeow.js').SessionServiceOptions} SessionServiceOptions */
/** @typedef {import('./wasmeow.js').Lease} Lease */
/** @typedef {import('./wasmeow.js').HttpKeyStore} HttpKeyStoreDecl */
/** @typedef {import('./wasmeow.js').HttpRemoteStore} HttpRemoteStoreDecl */
/** @typedef {import('./wasmeow.js').Creds} Creds */
/** @typedef {import('./wasmeow.js').SessionServiceError} SessionServiceErrorDecl */

/**
 * An error answered by the session service (its `code`, e.g. session_locked
 * or lease_lost), with the lease that was in the way.
 * @implements {SessionServiceErrorDecl}
 */
export class SessionServiceError extends WasmeowError {
  /**
   * @param {string} message
   * @param {string} code
   * @param {number} status the HTTP status (0: no answer)
   * @param {{ holder?: string, fence?: number, expiresAt?: number }} [lease]
   */
  constructor(message, code, status, lease = {}) {
    super(message, code);
    this.name = 'SessionServiceError';
    this.status = status;
    this.holder = lease.holder;
    this.fence = lease.fence;
    this.expiresAt = lease.expiresAt;
  }
}

/** @param {string} s */
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
// A key store value or the creds as the service keeps them: Baileys' BufferJSON, UTF-8.
/** @param {unknown} v */
const toJSONBytes = (v) => new TextEncoder().encode(JSON.stringify(v, bufferJSONReplacer));
/** @param {Uint8Array} b */
const fromJSONBytes = (b) => JSON.parse(new TextDecoder().decode(b), bufferJSONReviver);

const SESSION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SERVICE_OPTIONS = ['url', 'token', 'session', 'holder', 'leaseTtlMs', 'takeover', 'retries', 'retryDelayMs', 'maxRetryDelayMs', 'encryption', 'onLeaseLost'];
const SEALED_MAGIC = new TextEncoder().encode('wmE1'); // sessiond.SealedPrefix

/**
 * @param {string} fn
 * @param {any} o
 * @param {boolean} needSession
 */
function checkServiceOptions(fn, o, needSession) {
  const bad = (/** @type {string} */ m) => new WasmeowError(`${fn}: ${m}`, 'invalid_option');
  if (o === null || typeof o !== 'object') throw bad(`options must be an object, got ${describe(o)}`);
  for (const k of Object.keys(o)) if (!SERVICE_OPTIONS.includes(k)) throw bad(`unknown option ${k} (known: ${SERVICE_OPTIONS.join(', ')})`);
  if (needSession ? o.session === undefined : false) throw bad('session (the clientId of the session) is required');
  let base;
  try { base = new URL(String(o.url)); } catch { throw bad(`url must be the service's address, e.g. https://sessions.example.com, got ${describe(o.url)}`); }
  if (typeof o.token !== 'string' || o.token === '') throw bad('token must be the tenant\'s bearer token');
  if (o.session !== undefined && (typeof o.session !== 'string' || !SESSION_PATTERN.test(o.session))) throw bad('session must be 1 to 64 letters, digits, _ or -');
  if (o.holder !== undefined && (typeof o.holder !== 'string' || o.holder === '' || o.holder.length > 200)) throw bad('holder must be a name of 1 to 200 characters');
  for (const [k, lo, hi] of /** @type {const} */ ([['leaseTtlMs', 500, 600000], ['retries', 0, 100], ['retryDelayMs', 1, 60000], ['maxRetryDelayMs', 1, 600000]])) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi)) throw bad(`${k} must be an integer from ${lo} to ${hi}, got ${describe(v)}`);
  }
  if (o.onLeaseLost !== undefined && typeof o.onLeaseLost !== 'function') throw bad('onLeaseLost must be a function');
  const e = o.encryption;
  if (e !== undefined) {
    const isKey = e?.key instanceof Uint8Array && e.key.length === 32;
    const isPass = typeof e?.passphrase === 'string' && e.passphrase.length >= 8;
    if (!isKey && !isPass) throw bad('encryption must be { key: Uint8Array(32) } or { passphrase: string (8 or more characters), salt?, iterations? }');
    if (e.iterations !== undefined && !(Number.isInteger(e.iterations) && e.iterations >= SEAL_MIN_ITERATIONS && e.iterations <= SEAL_MAX_ITERATIONS)) {
      throw bad(`encryption.iterations must be an integer from ${SEAL_MIN_ITERATIONS} to ${SEAL_MAX_ITERATIONS}`);
    }
    if (e.salt !== undefined && typeof e.salt !== 'string' && !(e.salt instanceof Uint8Array)) throw bad('encryption.salt must be a string or a Uint8Array');
  }
  return {
    base: base.href.replace(/\/+$/, ''),
    token: o.token,
    holder: o.holder ?? `wasmeow-${crypto.randomUUID()}`,
    ttl: o.leaseTtlMs ?? 30000,
    takeover: o.takeover === true,
    retries: o.retries ?? 8,
    delay: o.retryDelayMs ?? 100,
    maxDelay: o.maxRetryDelayMs ?? 5000,
    encryption: e,
    onLeaseLost: o.onLeaseLost,
  };
}

/** @typedef {ReturnType<typeof checkServiceOptions>} ServiceConfig */

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One HTTP call to the service, retried with exponential backoff (and
 * jitter) while the service cannot be reached or answers 502, 503 or 504:
 * every call is idempotent (writes carry their fence). A 404 resolves to
 * null; other errors reject with the service's code.
 * @param {ServiceConfig} cfg
 * @param {string} what the store call, for messages
 * @param {string} method
 * @param {string} path under /v1/sessions/
 * @param {{ json?: unknown, bytes?: Uint8Array, fence?: number }} [req]
 * @returns {Promise<Response | null>}
 */
async function serviceCall(cfg, what, method, path, req = {}) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${cfg.token}` };
  /** @type {BodyInit | undefined} */
  let body;
  if (req.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(req.json); }
  if (req.bytes) { headers['Content-Type'] = 'application/octet-stream'; body = /** @type {Uint8Array<ArrayBuffer>} */ (req.bytes); }
  if (req.fence !== undefined) headers['Wasmeow-Fence'] = String(req.fence);
  const url = `${cfg.base}/v1/sessions/${path}`;
  for (let attempt = 0; ; attempt++) {
    let res;
    /** @type {unknown} */
    let failure;
    try {
      res = await fetch(url, { method, headers, body, cache: 'no-store' });
    } catch (e) {
      failure = e;
    }
    const transient = !res || res.status === 502 || res.status === 503 || res.status === 504;
    if (transient && attempt < cfg.retries) {
      await sleep(Math.min(cfg.maxDelay, cfg.delay * 2 ** attempt) * (0.5 + Math.random() / 2));
      continue;
    }
    if (!res) {
      throw new SessionServiceError(`${what}: the session service at ${cfg.base} cannot be reached after ${attempt + 1} attempts `
        + `(${/** @type {any} */ (failure)?.message ?? failure}); is it running, and does it allow this origin (CORS)?`, 'unavailable', 0);
    }
    if (method === 'GET' && (res.status === 204 || res.status === 404)) return null; // none (204: ?optional)
    if (res.ok) return res;
    /** @type {any} */
    let err = null;
    try { err = await res.json(); } catch { /* not JSON: a proxy's page */ }
    const code = typeof err?.code === 'string' ? err.code : 'store_failed';
    throw new SessionServiceError(`${what}: ${err?.message ?? `HTTP ${res.status} from ${url}`}`, code, res.status, err ?? {});
  }
}

/**
 * A session's lease: acquired on the first use (or by acquire()), renewed
 * every third of its time to live, lost when the service says another
 * holder has it (then every write fails with lease_lost until acquire()).
 */
class ServiceLease {
  /** @type {Lease | null} */
  current = null;
  /** @type {SessionServiceError | null} */
  lost = null;
  /** @type {Promise<Lease> | null} */
  #acquiring = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;

  /** @param {ServiceConfig} cfg @param {string} session */
  constructor(cfg, session) {
    this.cfg = cfg;
    this.session = session;
  }

  /** @param {boolean} takeover @returns {Promise<Lease>} */
  acquire(takeover) {
    this.lost = null;
    this.#acquiring ??= (async () => {
      try {
        const res = /** @type {Response} */ (await serviceCall(this.cfg, `lease of ${this.session}`, 'POST', `${this.session}/lease`,
          { json: { holder: this.cfg.holder, ttlMs: this.cfg.ttl, takeover } }));
        const l = await res.json();
        this.current = { session: this.session, holder: l.holder, fence: l.fence, expiresAt: l.expiresAt };
        this.#schedule();
        return this.current;
      } finally {
        this.#acquiring = null;
      }
    })();
    return this.#acquiring;
  }

  /** The lease to write under: acquired on first use, never after a loss. */
  async fence() {
    if (this.lost) throw this.lost;
    const l = this.current ?? await this.acquire(this.cfg.takeover);
    return l.fence;
  }

  #schedule() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { this.#renew(); }, Math.max(100, Math.floor(this.cfg.ttl / 3)));
    // Under node (tests, SSR) a forgotten store must not keep the process alive.
    /** @type {any} */ (this.#timer)?.unref?.();
  }

  async #renew() {
    const l = this.current;
    if (!l) return;
    try {
      const res = /** @type {Response} */ (await serviceCall({ ...this.cfg, retries: 0 }, `lease renewal of ${this.session}`, 'POST', `${this.session}/lease/renew`,
        { json: { holder: l.holder, fence: l.fence, ttlMs: this.cfg.ttl } }));
      if (this.current === l) this.current = { ...l, expiresAt: (await res.json()).expiresAt };
    } catch (e) {
      if (e instanceof SessionServiceError && e.code === 'lease_lost') { this.markLost(e); return; }
      // Unreachable for now: try again on the next tick; the fence keeps writes safe.
    }
    if (this.current === l || this.current?.fence === l.fence) this.#schedule();
  }

  /** @param {SessionServiceError} e */
  markLost(e) {
    if (this.lost) return;
    clearTimeout(this.#timer);
    this.current = null;
    this.lost = e;
    try { this.cfg.onLeaseLost?.(e); } catch (err) { console.error('wasmeow: onLeaseLost threw', err); }
  }

  async release() {
    clearTimeout(this.#timer);
    const l = this.current;
    this.current = null;
    if (!l) return;
    await serviceCall(this.cfg, `lease release of ${this.session}`, 'POST', `${this.session}/lease/release`, { json: { holder: l.holder, fence: l.fence } });
  }

  /**
   * A write under the lease; a lease_lost answer marks the lease lost.
   * @param {string} what @param {string} method @param {string} path
   * @param {{ json?: unknown, bytes?: Uint8Array }} [req]
   */
  async write(what, method, path, req = {}) {
    const fence = await this.fence();
    try {
      await serviceCall(this.cfg, what, method, path, { ...req, fence });
    } catch (e) {
      if (e instanceof SessionServiceError && e.code === 'lease_lost') this.markLost(e);
      throw e;
    }
  }
}

/**
 * Seals values in the page (AES-256-GCM, a fresh IV each, bound to where
 * the value lives by its additional data) and names keys by HMAC-SHA256, so
 * the service sees neither values nor ids. Both keys come from the 32-byte
 * key, or the passphrase through PBKDF2-HMAC-SHA256, by HKDF-SHA256.
 */
class Sealer {
  /** @param {CryptoKey} aes @param {CryptoKey} mac @param {string} session */
  constructor(aes, mac, session) {
    this.aes = aes;
    this.mac = mac;
    this.session = session;
  }

  /**
   * @param {NonNullable<ServiceConfig['encryption']>} enc
   * @param {string} session
   */
  static async create(enc, session) {
    const te = new TextEncoder();
    let raw;
    if (enc.key) {
      raw = enc.key;
    } else {
      const salt = enc.salt === undefined ? te.encode(`wasmeow-fleet-v1:${session}`) : typeof enc.salt === 'string' ? te.encode(enc.salt) : enc.salt;
      const pass = await crypto.subtle.importKey('raw', te.encode(enc.passphrase), 'PBKDF2', false, ['deriveBits']);
      raw = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: /** @type {Uint8Array<ArrayBuffer>} */ (salt), iterations: enc.iterations ?? SEAL_ITERATIONS }, pass, 256));
    }
    const master = await crypto.subtle.importKey('raw', /** @type {Uint8Array<ArrayBuffer>} */ (raw), 'HKDF', false, ['deriveKey']);
    /** @param {string} info @param {AesKeyGenParams | HmacImportParams} alg @param {KeyUsage[]} use */
    const derive = (info, alg, use) => crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: te.encode(info) }, master, alg, false, use);
    return new Sealer(await derive('wasmeow-fleet-v1 aes-gcm', { name: 'AES-GCM', length: 256 }, ['encrypt', 'decrypt']),
      await derive('wasmeow-fleet-v1 hmac-names', { name: 'HMAC', hash: 'SHA-256', length: 256 }, ['sign']), session);
  }

  /** @param {string} where */
  #aad(where) { return new TextEncoder().encode(`wasmeow-fleet-v1\0${this.session}\0${where}`); }

  /** @param {Uint8Array} plain @param {string} where */
  async seal(plain, where) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: this.#aad(where) }, this.aes, /** @type {Uint8Array<ArrayBuffer>} */ (plain)));
    const out = new Uint8Array(SEALED_MAGIC.length + iv.length + ct.length);
    out.set(SEALED_MAGIC);
    out.set(iv, SEALED_MAGIC.length);
    out.set(ct, SEALED_MAGIC.length + iv.length);
    return out;
  }

  /** @param {Uint8Array} sealed @param {string} where */
  async open(sealed, where) {
    const n = SEALED_MAGIC.length;
    if (sealed.length < n + 12 + 16 || SEALED_MAGIC.some((b, i) => sealed[i] !== b)) {
      throw new WasmeowError(`session ${this.session}: ${where} is not sealed (was it written without the encryption option?)`, 'decrypt_failed');
    }
    try {
      const body = /** @type {Uint8Array<ArrayBuffer>} */ (sealed);
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: body.subarray(n, n + 12), additionalData: this.#aad(where) }, this.aes, body.subarray(n + 12)));
    } catch {
      throw new WasmeowError(`session ${this.session}: ${where} cannot be decrypted: a wrong key or passphrase, or the stored value was altered`, 'decrypt_failed');
    }
  }

  /** A key's type or id as the service sees it. @param {string} kind @param {string} name */
  async name(kind, name) {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', this.mac, new TextEncoder().encode(`${kind}\0${name}`)));
    return bytesToBase64(mac).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
}

/**
 * The custom strategy's key store and creds kept by the session service.
 * @implements {HttpKeyStoreDecl}
 */
class HttpKeyStore {
  /** @type {Promise<Sealer> | null} */
  #sealer = null;
  /** @type {ServiceLease} */
  #lease;

  /** @param {ServiceConfig} cfg @param {string} session */
  constructor(cfg, session) {
    this.session = session;
    this.#lease = new ServiceLease(cfg, session);
    if (cfg.encryption) this.#sealer = Sealer.create(cfg.encryption, session);
    const self = this;
    /** @type {import('./wasmeow.js').CredsStore} */
    this.creds = {
      load: () => self.#loadCreds(),
      save: (c) => self.#saveCreds(c),
    };
  }

  get lease() { return this.#lease.current; }
  /** @param {{ takeover?: boolean }} [options] */
  acquire(options) { return this.#lease.acquire(options?.takeover ?? this.#lease.cfg.takeover); }
  release() { return this.#lease.release(); }

  /** A key's type and id as the service sees them. @param {string} type @param {string} id */
  async #name(type, id) {
    const s = await this.#sealer;
    return s ? [await s.name('type', type), await s.name('id', `${type}\0${id}`)] : [type, id];
  }

  /**
   * @param {string} type
   * @param {string[]} ids
   * @returns {Promise<Record<string, any>>}
   */
  async get(type, ids) {
    if (!this.#lease.current && !this.#lease.lost) await this.#lease.fence();
    if (ids.length === 0) return {};
    const names = await Promise.all(ids.map((id) => this.#name(type, id)));
    const res = /** @type {Response} */ (await serviceCall(this.#lease.cfg, `keys.get(${type})`, 'POST', `${this.session}/keys/get`,
      { json: { type: names[0][0], ids: names.map((n) => n[1]) } }));
    const { values } = await res.json();
    const s = await this.#sealer;
    /** @type {Record<string, any>} */
    const out = {};
    for (let i = 0; i < ids.length; i++) {
      const v = values[names[i][1]];
      if (typeof v !== 'string') continue;
      const bytes = fromBase64(v);
      out[ids[i]] = fromJSONBytes(s ? await s.open(bytes, `key\0${type}\0${ids[i]}`) : bytes);
    }
    return out;
  }

  /** @param {Record<string, Record<string, any>>} data */
  async set(data) {
    const s = await this.#sealer;
    /** @type {Record<string, Record<string, string | null>>} */
    const body = {};
    for (const [type, m] of Object.entries(data)) {
      for (const [id, v] of Object.entries(m)) {
        const [t, n] = await this.#name(type, id);
        body[t] ??= {};
        if (v === null || v === undefined) { body[t][n] = null; continue; }
        const bytes = toJSONBytes(v);
        body[t][n] = bytesToBase64(s ? await s.seal(bytes, `key\0${type}\0${id}`) : bytes);
      }
    }
    await this.#lease.write('keys.set', 'POST', `${this.session}/keys/set`, { json: { data: body } });
  }

  async clear() { await this.#lease.write('keys.clear', 'POST', `${this.session}/keys/clear`); }

  /** @returns {Promise<Creds | null>} */
  async #loadCreds() {
    if (!this.#lease.current && !this.#lease.lost) await this.#lease.fence();
    const res = await serviceCall(this.#lease.cfg, 'creds.load', 'GET', `${this.session}/creds?optional`);
    if (!res) return null;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const s = await this.#sealer;
    return fromJSONBytes(s ? await s.open(bytes, 'creds') : bytes);
  }

  /** @param {Creds | null} creds */
  async #saveCreds(creds) {
    if (creds === null) {
      await this.#lease.write('creds.save(null)', 'DELETE', `${this.session}/creds`);
      return;
    }
    let bytes = toJSONBytes(creds);
    const s = await this.#sealer;
    if (s) bytes = await s.seal(bytes, 'creds');
    await this.#lease.write('creds.save', 'PUT', `${this.session}/creds`, { bytes });
  }
}

/**
 * The remote strategy's snapshot store kept by the session service, with a
 * lease per session.
 * @implements {HttpRemoteStoreDecl}
 */
class HttpRemoteStore {
  /** @type {Map<string, ServiceLease>} */
  #leases = new Map();
  /** @type {Map<string, Promise<Sealer>>} */
  #sealers = new Map();

  /** @param {ServiceConfig} cfg */
  constructor(cfg) { this.cfg = cfg; }

  /** @param {unknown} session */
  #lease(session) {
    if (typeof session !== 'string' || !SESSION_PATTERN.test(session)) {
      throw new WasmeowError(`httpRemoteStore: session must be 1 to 64 letters, digits, _ or -, got ${describe(session)}`, 'invalid_option');
    }
    let l = this.#leases.get(session);
    if (!l) this.#leases.set(session, l = new ServiceLease(this.cfg, session));
    return l;
  }

  /** @param {string} session */
  #sealer(session) {
    const enc = this.cfg.encryption;
    if (!enc) return null;
    let s = this.#sealers.get(session);
    if (!s) this.#sealers.set(session, s = Sealer.create(enc, session));
    return s;
  }

  /** @param {string} session */
  lease(session) { return this.#leases.get(session)?.current ?? null; }
  /** @param {string} session @param {{ takeover?: boolean }} [options] */
  acquire(session, options) { return this.#lease(session).acquire(options?.takeover ?? this.cfg.takeover); }
  /** @param {string} session */
  release(session) { return this.#lease(session).release(); }

  /** @param {{ session: string }} args */
  async sessionExists({ session }) {
    const l = this.#lease(session);
    if (!l.current && !l.lost) await l.fence();
    const res = await serviceCall(this.cfg, 'sessionExists', 'GET', session);
    return res ? (await res.json()).snapshot === true : false;
  }

  /** @param {{ session: string, data: Uint8Array }} args */
  async save({ session, data }) {
    const s = await this.#sealer(session);
    await this.#lease(session).write('save', 'PUT', `${session}/snapshot`, { bytes: s ? await s.seal(data, 'snapshot') : data });
  }

  /** @param {{ session: string }} args */
  async extract({ session }) {
    this.#lease(session);
    const res = await serviceCall(this.cfg, 'extract', 'GET', `${session}/snapshot?optional`);
    if (!res) throw new SessionServiceError(`extract: session ${session} has no snapshot`, 'not_found', 404);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const s = await this.#sealer(session);
    return s ? s.open(bytes, 'snapshot') : bytes;
  }

  /** @param {{ session: string }} args */
  async delete({ session }) { await this.#lease(session).write('delete', 'DELETE', session); }
}

/**
 * The custom strategy's stores kept by the session service: pass it as
 * auth.keys and its .creds as auth.creds.
 * @param {SessionServiceOptions & { session: string }} options
 * @returns {HttpKeyStore}
 */
export function httpKeyStore(options) {
  const cfg = checkServiceOptions('httpKeyStore', options, true);
  return new HttpKeyStore(cfg, /** @type {string} */ (options.session));
}

/**
 * The remote strategy's store kept by the session service: pass it as auth.store.
 * @param {SessionServiceOptions} options
 * @returns {HttpRemoteStore}
 */
export function httpRemoteStore(options) {
  return new HttpRemoteStore(checkServiceOptions('httpRemoteStore', options, false));
}
