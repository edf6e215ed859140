// wasmeow-testing: runs fakewa, the offline WhatsApp server double, for the
// Playwright tests of an app built on wasmeow. Node only (it spawns a binary).
// See README.md beside this file.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The platform packages shipped, by `${process.platform}-${process.arch}`. */
export const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

/** The environment variable that names a fakewa binary explicitly (any platform). */
export const BINARY_ENV = 'WASMEOW_FAKEWA';

/**
 * The path of the fakewa binary: $WASMEOW_FAKEWA if set, else the one in the
 * optional package @wasmeow/fakewa-<platform>-<arch> npm installed for this machine.
 */
export function fakewaBinary() {
  const explicit = process.env[BINARY_ENV];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`${BINARY_ENV}=${explicit}: no such file`);
    return explicit;
  }
  const platform = `${process.platform}-${process.arch}`;
  const pkg = `@wasmeow/fakewa-${platform}`;
  let dir;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    const why = PLATFORMS.includes(platform)
      ? `${pkg} is not installed (npm skips optional dependencies with --no-optional/--omit=optional, or when it could not fetch them): npm install -D ${pkg}`
      : `no fakewa package is published for ${platform} (only ${PLATFORMS.join(', ')})`;
    throw new Error(`wasmeow-testing: ${why}; or build fakewa (go build ./cmd/fakewa in the wasmeow repository) and set ${BINARY_ENV} to its path`);
  }
  const bin = join(dir, 'bin', process.platform === 'win32' ? 'fakewa.exe' : 'fakewa');
  if (!existsSync(bin)) throw new Error(`wasmeow-testing: ${pkg} has no ${bin}`);
  if (process.platform !== 'win32') {
    try { accessSync(bin, constants.X_OK); } catch { try { chmodSync(bin, 0o755); } catch { /* spawn will say */ } }
  }
  return bin;
}

let phoneSeq = 0;
// A phone number unlikely to collide across fakewa instances and workers: 1555 + 8 digits.
function newNumber() {
  phoneSeq = (phoneSeq + 1) % 1000;
  return `1555${String(process.pid % 100000).padStart(5, '0')}${String(phoneSeq).padStart(3, '0')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts fakewa on a free loopback port. Resolves with a Fakewa once it listens.
 * options: binary (default fakewaBinary()), args (extra command-line flags, e.g.
 * ['-allow-outdated']), timeout (start-up, ms; default 20000).
 */
export async function startFakewa({ binary = fakewaBinary(), args = [], timeout = 20000 } = {}) {
  const proc = spawn(binary, ['-addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const output = [];
  proc.stderr.on('data', (d) => output.push(String(d)));
  let out = '';
  const info = await new Promise((resolve, reject) => {
    const fail = (why) => { clearTimeout(t); proc.kill(); reject(new Error(`fakewa (${binary}) ${why}:\n${out}${output.join('')}`)); };
    const t = setTimeout(() => fail(`did not start within ${timeout} ms`), timeout);
    proc.on('error', (e) => fail(`could not start: ${e.message}`));
    proc.on('exit', (code, sig) => fail(`exited with ${code ?? sig}`));
    proc.stdout.on('data', (d) => {
      out += d;
      output.push(String(d));
      const base = /base URL:\s+(\S+)/.exec(out);
      const ws = /websocket URL:\s+(\S+)/.exec(out);
      const root = /root key:\s+(\S+)/.exec(out);
      if (base && ws && root) {
        clearTimeout(t);
        proc.removeAllListeners('exit');
        resolve({ baseURL: base[1], socketURL: ws[1], trustRootKey: root[1] });
      }
    });
  });
  // No fakewa outlives the test process, even one that forgot close().
  const reap = () => proc.kill();
  process.once('exit', reap);
  proc.once('exit', () => process.removeListener('exit', reap));
  proc.stdout.removeAllListeners('data');
  proc.stdout.on('data', (d) => { output.push(String(d)); if (output.length > 5000) output.splice(0, 1000); });
  return new Fakewa(proc, info, output);
}

/**
 * A caller of fakewa's control API at baseURL: (method, path, body?) resolves
 * with the JSON answer; an HTTP error rejects with .status and .body.
 */
export function controlAPI(baseURL) {
  return async (method, path, body) => {
    const res = await fetch(baseURL + path, {
      method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { raw: text }; }
    if (!res.ok) {
      const e = new Error(`fakewa ${method} ${path}: HTTP ${res.status}: ${text}`);
      e.status = res.status;
      e.body = json;
      throw e;
    }
    return json;
  };
}

export class Fakewa {
  constructor(proc, { baseURL, socketURL, trustRootKey }, output) {
    this.proc = proc;
    /** The control API's base URL (http://127.0.0.1:port). */
    this.baseURL = baseURL;
    /** loadWasmeow({ socketURL }) */
    this.socketURL = socketURL;
    /** loadWasmeow({ trustRootKey }): the server's root public key, base64. */
    this.trustRootKey = trustRootKey;
    /** fakewa's log lines (stdout and stderr), newest last. */
    this.output = output;
  }

  /** Calls the control API (fakewa/doc.go); rejects on an HTTP error with .status and .body. */
  api(method, path, body) { return controlAPI(this.baseURL)(method, path, body); }

  /** A new account with its simulated primary phone (number generated if not given). */
  async createPhone(number = newNumber(), pushName = `Phone ${number}`) {
    const acct = await this.api('POST', '/api/accounts', { phone: String(number), pushName });
    return new Phone(this, acct);
  }

  /** The accounts with their devices ({jid, online, queued, ...}). */
  accounts() { return this.api('GET', '/api/accounts'); }

  /** Live sockets, paired or not: [{id, state, device, version}]. */
  connections() { return this.api('GET', '/api/connections'); }

  /** Arms a cut of the next socket to open (at once, or after afterFrames server frames). */
  cutNext({ afterFrames = 0 } = {}) { return this.api('POST', '/api/connections/next/cut', { afterFrames }); }

  /** Cuts a device's socket (its JID), at once or after afterFrames server frames. */
  cut(device, { afterFrames = 0 } = {}) { return this.api('POST', `/api/devices/${encodeURIComponent(device)}/cut`, { afterFrames }); }

  /** Logs a device out from the server side, as "log out" on the phone does. */
  logout(device) { return this.api('POST', `/api/devices/${encodeURIComponent(device)}/logout`, {}); }

  /** Shows or changes the behaviour switches ({minVersion, allowOutdated, pnAddressing, noTCTokenCheck}). */
  settings(update) { return update ? this.api('POST', '/api/settings', update) : this.api('GET', '/api/settings'); }

  /**
   * Scans the page's QR with a simulated phone and waits until the new linked
   * device is back online (whatsmeow reconnects after pairing). Resolves with a
   * Pairing {phone, device, cut(), logout()}.
   *
   * The QR is read from the page with options.qr(page) if given, else from
   * window.__wasmeowQR, which the app sets in its qr handler:
   *   client.on('qr', ({ code }) => { window.__wasmeowQR = code; });
   * options.phone: a Phone (or a number) to pair as; default a new account.
   */
  async pair(page, { qr, phone, timeout = 30000 } = {}) {
    const end = Date.now() + timeout;
    const readQR = qr ? () => qr(page) : async () => {
      const h = await page.waitForFunction(() => window.__wasmeowQR, null, { timeout: Math.max(1, end - Date.now()) });
      return h.jsonValue();
    };
    if (!(phone instanceof Phone)) phone = await this.createPhone(phone);
    let device;
    for (;;) {
      let code = await readQR();
      if (code && typeof code === 'object') code = code.code;
      if (typeof code !== 'string' || !code) throw new Error(`pair: the page's QR is ${JSON.stringify(code)}, not a string (set window.__wasmeowQR = code in the qr handler, or pass options.qr)`);
      try {
        ({ device } = await this.api('POST', `/api/accounts/${phone.number}/scan`, { qr: code }));
        break;
      } catch (e) {
        // A code that rotated away or not yet usable: read the page's code again.
        if (e.status !== 409 || Date.now() > end) throw new Error(`pair: scanning ${JSON.stringify(code)} failed: ${e.message}`);
        await sleep(250);
      }
    }
    const pairing = new Pairing(this, phone, device);
    await pairing.waitOnline({ timeout: Math.max(1000, end - Date.now()) });
    return pairing;
  }

  /** Stops fakewa. */
  close() {
    return new Promise((r) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return r();
      this.proc.on('exit', () => r());
      this.proc.kill('SIGTERM');
    });
  }
}

// A recipient as the control API takes it: a Phone's number, else the string.
const recipient = (to) => (to instanceof Phone ? to.number : String(to));

/** A simulated primary phone: its account's number and JID; sends any message, reads what it received. */
export class Phone {
  constructor(fakewa, { phone, jid, lid, pushName }) {
    this.fakewa = fakewa;
    this.number = phone;
    this.jid = jid;
    this.lid = lid;
    this.pushName = pushName;
  }

  /** Sends a text to a number, a user or group JID, or a Phone; resolves with the message id. */
  async send(to, text) {
    return (await this.fakewa.api('POST', `/api/accounts/${this.number}/send`, { to: recipient(to), text })).id;
  }

  /**
   * Sends any message: a waE2E.Message in protobuf JSON, e.g.
   * {reactionMessage: {key: {remoteJID, fromMe, ID}, text: '👍'}} or
   * {locationMessage: {degreesLatitude, degreesLongitude}}; resolves with the id.
   */
  async sendMessage(to, message) {
    if (!message || typeof message !== 'object') throw new TypeError('sendMessage: message must be a waE2E.Message object in protobuf JSON');
    return (await this.fakewa.api('POST', `/api/accounts/${this.number}/send-message`, { to: recipient(to), message })).id;
  }

  /**
   * Uploads and sends a media message: {type: 'image'|'video'|'audio'|'document'|'sticker',
   * data: Uint8Array|Buffer, mimetype, caption?, fileName?, width?, height?, seconds?, ptt?};
   * resolves with {id, directPath}.
   */
  async sendMedia(to, { data, ...spec }) {
    if (!(data instanceof Uint8Array)) throw new TypeError('sendMedia: data must be a Uint8Array or Buffer');
    return this.fakewa.api('POST', `/api/accounts/${this.number}/send-media`, { to: recipient(to), ...spec, data: Buffer.from(data).toString('base64') });
  }

  /** Creates a group with this phone as its admin; participants: numbers, JIDs or Phones. Resolves with the group ({jid, ...}). */
  createGroup(subject, participants = []) {
    return this.fakewa.api('POST', `/api/accounts/${this.number}/groups`, { subject, participants: participants.map(recipient) });
  }

  /** What the phone received: [{id, from, chat, text, time, media?, raw?}]. */
  async messages() { return (await this.fakewa.api('GET', `/api/accounts/${this.number}/messages`)) || []; }

  /** Waits for a received message whose text equals match (a string) or that match(m) accepts. */
  async waitForMessage(match, { timeout = 20000 } = {}) {
    const pred = typeof match === 'function' ? match : (m) => m.text === match;
    const end = Date.now() + timeout;
    for (;;) {
      const msgs = await this.messages();
      const m = msgs.find(pred);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no matching message for ${this.number} within ${timeout} ms; it received ${JSON.stringify(msgs)}`);
      await sleep(200);
    }
  }

  /** This account's linked devices: [{jid, lid, platform, online, queued, ...}]. */
  async devices() {
    const acct = (await this.fakewa.accounts()).find((a) => a.phone === this.number);
    return acct?.devices || [];
  }
}

/** A device linked by pair(): its phone, its JID, and faults on its socket. */
export class Pairing {
  constructor(fakewa, phone, device) {
    this.fakewa = fakewa;
    /** The simulated phone the page is paired with (the page's own account). */
    this.phone = phone;
    /** The linked device's JID (user:device@s.whatsapp.net). */
    this.device = device;
  }

  /** Cuts the device's socket (at once, or after afterFrames server frames); the client reconnects. */
  cut(options) { return this.fakewa.cut(this.device, options); }

  /** Logs the device out from the server side; the client gets logged_out and wipes its session. */
  logout() { return this.fakewa.logout(this.device); }

  /** Resolves when the device has a live logged-in socket (online: true). */
  async waitOnline({ online = true, timeout = 30000 } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
      const d = (await this.phone.devices()).find((x) => x.jid === this.device);
      if (d && d.online === online) return d;
      if (Date.now() > end) throw new Error(`device ${this.device} not ${online ? 'online' : 'offline'} within ${timeout} ms`);
      await sleep(100);
    }
  }
}

/**
 * Playwright fixtures: `const test = base.extend(fixtures)`, then
 * `test('...', async ({ page, fakewa }) => { await fakewa.pair(page); })`.
 * One fakewa per worker; options of startFakewa through the `fakewaOptions` option.
 */
export const fixtures = {
  fakewaOptions: [{}, { scope: 'worker', option: true }],
  fakewa: [async ({ fakewaOptions }, use) => {
    const fw = await startFakewa(fakewaOptions);
    try {
      await use(fw);
    } finally {
      await fw.close();
    }
  }, { scope: 'worker' }],
};
