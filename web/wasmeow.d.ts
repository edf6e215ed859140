// Types of wasmeow.js: whatsmeow in WebAssembly behind a small JS API.

export interface LoadOptions {
  /**
   * wasmeow.wasm: a URL (relative ones resolve against the page, as fetch does), a Response (or a
   * promise of one, e.g. fetch(...)), or a compiled WebAssembly.Module. Default: beside wasmeow.js,
   * `new URL('./wasmeow.wasm', import.meta.url)`, which bundlers emit. A bundle with no
   * import.meta (IIFE, CommonJS) must pass it.
   */
  wasmURL?: string | URL | Response | Promise<Response> | WebAssembly.Module;
  /** URL of Go's wasm_exec.js; default: beside wasmeow.js. A bundle with no import.meta must pass it. */
  wasmExecURL?: string | URL;
  /**
   * Called as wasmeow.wasm downloads: loaded bytes so far, and total when known (the Content-Length
   * of an uncompressed answer), else null; the last call has loaded === total.
   */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * The WhatsApp Web version to announce, page-wide, e.g. "2.3000.1034270928". The service refuses
   * versions older than about two months (auth_failure 'client_outdated'). Default: what a relay at
   * socketURL serves on GET /version, else the version this release was built with.
   */
  waVersion?: string;
  /** Every client connects here instead of wss://web.whatsapp.com/ws/chat (a relay, or a test server). */
  socketURL?: string;
  /** The server's root public key (32 bytes, base64 or bytes), for a test server. */
  trustRootKey?: string | Uint8Array;
  /**
   * Where whatsmeow's HTTP goes (media, history-sync and app-state blobs): a relay's media proxy,
   * e.g. 'https://relay.example/media/' (docs/RELAY.md). Default: the relay's own when socketURL is
   * 'ws(s)://host/ws/chat', else the media hosts themselves. false: always the media hosts.
   */
  mediaProxyURL?: string | false;
}

export interface LoadProgress {
  loaded: number;
  total: number | null;
}

/**
 * Loads and starts the wasm program (once per page or worker). A later call with no options, or the
 * same wasmURL, wasmExecURL, waVersion, socketURL and trustRootKey, returns the same module; one with
 * others rejects with 'invalid_option'. Load errors reject with 'load_failed' naming the URL and the
 * likely cause.
 */
export function loadWasmeow(options?: LoadOptions): Promise<WasmeowModule>;

/**
 * What every rejection and thrown error of wasmeow carries in `code` (typed as
 * `ErrorCode | (string & {})`: these codes complete in editors, and an Error
 * from elsewhere that passed through wasmeow keeps its own code).
 */
export type ErrorCode =
  | 'invalid_option' | 'destroyed' | 'exited' | 'load_failed' | 'panic' | 'js_error' | 'internal' | 'canceled'
  | 'timeout' | 'not_connected' | 'not_logged_in' | 'already_paired' | 'invalid_phone' | 'invalid_jid'
  | 'pairing_failed' | 'connect_failed' | 'send_failed' | 'logout_failed' | 'session_in_use' | 'session_locked'
  | 'restore_failed' | 'remote_save_failed' | 'wipe_failed' | 'store_failed' | 'session_exists'
  | 'store_corrupt' | 'message_too_large' | 'sync_failed' | 'media_failed'
  | 'store_value_refused' | 'wrong_passphrase' | 'decrypt_failed';

export class WasmeowError extends Error {
  readonly code: ErrorCode | (string & {});
}

/**
 * Baileys' SignalKeyStore (docs/AUTHSTATE.md): Baileys' types ('pre-key', 'session', 'sender-key',
 * 'app-state-sync-key', 'app-state-sync-version', 'lid-mapping', 'tctoken', 'identity-key') with
 * Baileys' ids and values, and whatsmeow's other tables as 'wasmeow-…' types. Byte strings are
 * Uint8Arrays; a JSON adapter may store them in BufferJSON form, base64, arrays or as
 * JSON.stringify writes a Uint8Array: each reads back. Methods may be async.
 */
export interface KeyStore {
  /** Returns the stored values of ids; missing ids may be absent, null or undefined. */
  get(type: string, ids: string[]): Promise<Record<string, any>> | Record<string, any>;
  /** Stores every value; null deletes. One call per commit: make it atomic if you can. */
  set(data: Record<string, Record<string, any>>): Promise<void> | void;
  /** Deletes everything (logout). Optional, as in Baileys: logout calls it, then deletes each id wasmeow wrote anyway (a cache's clear may not reach the store). */
  clear?(): Promise<void> | void;
}

/** Baileys' KeyPair: 32-byte Curve25519 keys. */
export interface BaileysKeyPair { public: Uint8Array; private: Uint8Array }

/**
 * Baileys' AuthenticationCreds, as wasmeow saves them (docs/AUTHSTATE.md), with whatsmeow's own
 * fields under their own names. Fields wasmeow does not use are kept as loaded.
 */
export interface BaileysCreds {
  noiseKey: BaileysKeyPair;
  signedIdentityKey: BaileysKeyPair;
  signedPreKey: { keyPair: BaileysKeyPair; signature: Uint8Array; keyId: number; timestampS?: number };
  registrationId: number;
  /** base64 */
  advSecretKey: string;
  me?: { id: string; lid?: string; name?: string };
  account?: { details: Uint8Array; accountSignatureKey: Uint8Array; accountSignature: Uint8Array; deviceSignature: Uint8Array };
  signalIdentities?: { identifier: { name: string; deviceId: number }; identifierKey: Uint8Array }[];
  firstUnuploadedPreKeyId: number;
  nextPreKeyId: number;
  platform?: string;
  registered: boolean;
  pairingCode?: string;
  /** whatsmeow's */
  businessName?: string;
  facebookUUID?: string;
  lidMigrationTimestamp?: number;
  [field: string]: unknown;
}

/**
 * Creds of wasmeow's first custom layout ({device: {jid: bytes}}): a store that holds these keeps
 * that layout (and the 'wasmeow-index' type); new stores get Baileys' shapes.
 */
export type LegacyCreds = Record<string, Record<string, Uint8Array>>;

/** What a CredsStore holds (the name earlier versions gave the device record). */
export type Creds = BaileysCreds | LegacyCreds;

export interface CredsStore {
  /** The last saved creds, or null/undefined for a new session. */
  load(): Promise<Creds | null | undefined> | Creds | null | undefined;
  /** Saves creds whole; null means the session was logged out: delete it. */
  save(creds: Creds | null): Promise<void> | void;
}

/** Baileys' AuthenticationState: wasmeow writes state.creds in place, then calls saveCreds(). */
export interface BaileysAuthState {
  creds: Partial<BaileysCreds>;
  keys: KeyStore;
}

/** Where the remote strategy keeps snapshots (see docs/SNAPSHOT.md). `session` is the clientId. */
export interface RemoteStore {
  sessionExists(args: { session: string }): Promise<boolean> | boolean;
  save(args: { session: string; data: Uint8Array }): Promise<void> | void;
  /** Resolves to the bytes last given to save. */
  extract(args: { session: string }): Promise<Uint8Array> | Uint8Array;
  delete(args: { session: string }): Promise<void> | void;
}

// ---- the session service for a fleet (cmd/wasmeow-sessiond, docs/FLEET.md) ----

/** The codes the session service answers with (SessionServiceError.code). */
export type ServiceErrorCode =
  | 'unauthorized' | 'invalid_request' | 'too_large' | 'not_found' | 'method_not_allowed' | 'session_locked'
  | 'lease_lost' | 'lease_required' | 'plaintext_refused' | 'unavailable' | 'internal' | 'store_failed';

/** An error answered by the session service, with the lease in the way (session_locked names its holder). */
export class SessionServiceError extends WasmeowError {
  readonly code: ServiceErrorCode | ErrorCode | (string & {});
  /** The HTTP status; 0 when the service could not be reached. */
  readonly status: number;
  /** session_locked, lease_lost: who holds the session now. */
  readonly holder?: string;
  readonly fence?: number;
  /** ms since the epoch: when the holder's lease runs out unless renewed. */
  readonly expiresAt?: number;
}

/** A lease on a session: one holder across every machine; `fence` goes with every write. */
export interface Lease { session: string; holder: string; fence: number; expiresAt: number }

/**
 * End-to-end encryption: the page seals every value, snapshot and creds with AES-256-GCM and names
 * keys by HMAC-SHA256; the service holds ciphertext only. A 32-byte key, or a passphrase
 * stretched by PBKDF2-HMAC-SHA256 (SEAL_ITERATIONS, 600,000, unless given, 100,000 at least; salt default
 * "wasmeow-fleet-v1:<session>").
 */
export type SessionEncryption =
  | { key: Uint8Array }
  | { passphrase: string; salt?: string | Uint8Array; iterations?: number };

export interface SessionServiceOptions {
  /** The service's address, e.g. "https://sessions.example.com". */
  url: string | URL;
  /** The tenant's bearer token (wasmeow-sessiond tenant-add). */
  token: string;
  /** The name others see in session_locked; default "wasmeow-<random uuid>" (one per store object). */
  holder?: string;
  /** The lease's time to live, renewed every third of it while the page runs; default 30000 (500 to 600000). */
  leaseTtlMs?: number;
  /** Take the session even if another holder's lease is live (it then fails with lease_lost); default false. */
  takeover?: boolean;
  /** Retries of a call the service did not answer (or answered 502/503/504); default 8. */
  retries?: number;
  /** First retry delay, doubled each time up to maxRetryDelayMs; defaults 100 and 5000. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  encryption?: SessionEncryption;
  /** Called once when another holder took the session: destroy the client (its writes now fail with lease_lost). */
  onLeaseLost?: (error: SessionServiceError) => void;
}

/** The custom strategy's stores on the session service: auth { strategy: 'custom', keys: store, creds: store.creds }. */
export interface HttpKeyStore extends KeyStore {
  readonly session: string;
  readonly creds: CredsStore;
  /** The lease held, or null (not yet taken, released or lost). */
  readonly lease: Lease | null;
  /** Values as they were set (kept as Baileys' BufferJSON: any JSON value, Uint8Arrays as bytes). */
  get(type: string, ids: string[]): Promise<Record<string, any>>;
  set(data: Record<string, Record<string, any>>): Promise<void>;
  clear(): Promise<void>;
  /** Takes the lease now (else the first call does); rejects with session_locked naming the holder. */
  acquire(options?: { takeover?: boolean }): Promise<Lease>;
  /** Gives the lease up at once (after client.destroy()), so the next holder need not wait for it to expire. */
  release(): Promise<void>;
}

/** The remote strategy's store on the session service: auth { strategy: 'remote', store }. One lease per session. */
export interface HttpRemoteStore extends RemoteStore {
  sessionExists(args: { session: string }): Promise<boolean>;
  save(args: { session: string; data: Uint8Array }): Promise<void>;
  extract(args: { session: string }): Promise<Uint8Array>;
  delete(args: { session: string }): Promise<void>;
  lease(session: string): Lease | null;
  acquire(session: string, options?: { takeover?: boolean }): Promise<Lease>;
  release(session: string): Promise<void>;
}

export function httpKeyStore(options: SessionServiceOptions & { session: string }): HttpKeyStore;
export function httpRemoteStore(options: SessionServiceOptions): HttpRemoteStore;
/** PBKDF2-HMAC-SHA256 iterations for a passphrase (sealed snapshots, sealed session-service values): 600000, OWASP's figure. */
export const SEAL_ITERATIONS: number;

export type AuthOptions =
  | { strategy: 'none'; clientId?: string }
  | { strategy?: 'local'; clientId?: string; dbName?: string }
  | { strategy: 'remote'; clientId?: string; dbName?: string; store: RemoteStore; backupSyncIntervalMs?: number; storeTimeoutMs?: number }
  | { strategy: 'custom'; clientId?: string; keys: KeyStore; creds: CredsStore; storeTimeoutMs?: number }
  /** Baileys' flow: `const { state, saveCreds } = await useYourAuthState()`; keys default to state.keys. */
  | { strategy: 'custom'; clientId?: string; state: BaileysAuthState; saveCreds: () => Promise<void> | void; keys?: KeyStore; storeTimeoutMs?: number };

/** A client's options. socketURL and trustRootKey are page-wide: they are loadWasmeow's options, and given here they are refused with 'invalid_option'. */
export interface ClientOptions {
  /** Default { strategy: 'local', clientId: 'default', dbName: 'wasmeow' }. */
  auth?: AuthOptions;
  /** Name shown on the phone's linked devices list; default "wasmeow". */
  deviceName?: string;
  /** whatsmeow's log level on the console; default "warn". */
  logLevel?: 'none' | 'error' | 'warn' | 'info' | 'debug';
  /** QR codes shown after the first before giving up with auth_failure 'qr_timeout'; default 0: every code the server gives. */
  qrMaxRetries?: number;
  /** How long each QR code is shown (200 to 300000 ms); default 60 s for the first, 20 s for each next. */
  qrTimeoutMs?: number;
}

export interface ListOptions {
  dbName?: string;
}

export interface ImportOptions extends ListOptions {
  /** The passphrase of a sealed snapshot (exportSession({passphrase})). */
  passphrase?: string;
}

export interface ExportOptions {
  /**
   * Seals the snapshot: AES-256-GCM under a key PBKDF2-HMAC-SHA256 (600,000 iterations, random salt)
   * derives from the passphrase (docs/SNAPSHOT.md). importSession then needs the same passphrase.
   */
  passphrase?: string;
}

export class WasmeowModule {
  readonly version: string;
  /** Milliseconds from fetching the wasm to the Go program being ready. */
  readonly startMs: number;
  /** The WhatsApp Web version the next connection announces. */
  getWAVersion(): string;
  createClient(options?: ClientOptions): Promise<Client>;
  /** clientIds that have a local (IndexedDB) session. */
  listSessions(options?: ListOptions): Promise<string[]>;
  /** Deletes a local session no client has open (in this page or another tab). */
  deleteSession(clientId: string, options?: ListOptions): Promise<void>;
  /**
   * Makes a snapshot (client.exportSession(), or what a remote store saved) the local session
   * clientId, in one commit. Rejects with 'session_exists' when that session already holds a device,
   * 'restore_failed' when the bytes are not a paired session's snapshot (or a sealed one was
   * altered), 'wrong_passphrase' when a sealed snapshot's passphrase is wrong or missing.
   */
  importSession(clientId: string, data: Uint8Array | ArrayBuffer | ArrayBufferView, options?: ImportOptions): Promise<void>;
  /**
   * Makes a Baileys auth state the local session clientId, keeping the link (no QR): the creds, and the
   * Signal sessions and sender keys converted from libsignal-node's records, so conversations go on
   * without a retry receipt (docs/AUTHSTATE.md). Give {creds, keys} with keys as the records by type and
   * id (what keys.set receives; a SignalKeyStore cannot list its records and is refused), or {files}
   * (the files of useMultiFileAuthState by name). Resolves with what was converted and the list of what
   * was left out (it falls back to the retry receipt path). Rejects with 'session_exists' when that
   * session already holds a device, 'restore_failed' when the creds are not a paired device's.
   * Stop the Baileys socket first and never run both: they share the device's keys.
   */
  importBaileysSession(clientId: string, state: BaileysAuthData | BaileysFiles, options?: ListOptions): Promise<BaileysImportReport>;
}

/** A Baileys auth state with its key store's records listed: byte strings as Uint8Array (or Node Buffers). */
export interface BaileysAuthData {
  /** Baileys' AuthenticationCreds. */
  creds: Partial<BaileysCreds> | Record<string, unknown>;
  /** Records by type ('session', 'pre-key', 'sender-key', 'identity-key', ...) and id. */
  keys: Record<string, Record<string, unknown>>;
}

/** The files of Baileys' useMultiFileAuthState folder, by name (creds.json, session-123.0.json, ...). */
export interface BaileysFiles {
  files: Record<string, string | Uint8Array>;
}

export interface BaileysImportReport {
  /** The device's JID. */
  device: string;
  /** How many records of each kind were converted. */
  counts: Record<string, number>;
  /** What could not be converted, one line each (empty when everything was). */
  dropped: string[];
}

export interface BaileysExport extends BaileysAuthData {
  creds: BaileysCreds;
  device: string;
  counts: Record<string, number>;
  /** The same state as useMultiFileAuthState's files: write each into the folder Baileys opens. */
  files: Record<string, string>;
  /** What Baileys' auth state has no place for or libsignal-node's records cannot hold. */
  dropped: string[];
}

export interface CredsView {
  me: string | null;
  lid: string | null;
  platform: string;
  pushName: string;
  businessName: string;
  registered: boolean;
}

/** Why auth_failure: the login or pairing did not succeed. */
export type AuthFailureReason =
  | 'qr_timeout' | 'client_outdated' | 'pairing_unconfirmed' | 'logged_out' | 'pair_error' | 'connect_failure'
  | 'temporary_ban' | 'scanned_without_multidevice';

/** Why disconnected. */
export type DisconnectReason =
  | 'client' | 'connection_lost' | 'keepalive_timeout' | 'replaced' | 'qr_timeout' | 'store_failed'
  | 'client_outdated' | 'temporary_ban' | 'connect_failure';

/** Why logged_out: logout() ('logout'), the service ('server_logout...'), or a pairing never confirmed. */
export type LoggedOutReason = 'logout' | 'server_logout' | 'pairing_unconfirmed' | `server_logout:${string}`;

export interface Events {
  qr: { code: string; timeoutMs: number };
  pairing_code: { code: string; phone: string };
  authenticated: { me: string | null; lid: string | null; platform: string; businessName: string; method: 'pairing' | 'stored' };
  auth_failure: {
    reason: AuthFailureReason;
    message: string;
    /** client_outdated: the version the service refused. */
    version?: string;
  };
  ready: { me: string | null };
  'creds.update': { changed: (keyof CredsView)[]; creds: CredsView };
  /** After 'client_outdated', 'temporary_ban' and 'connect_failure' (an auth_failure came first) there is no reconnect. */
  disconnected: { reason: DisconnectReason; message?: string };
  /** After connection_lost or keepalive_timeout: attempt n (from 1) starts after delayMs (0, 1 s, 2 s, 4 s ... 30 s). */
  reconnecting: { attempt: number; delayMs: number };
  /** 'server_logout:<why>' when the service refused the login (e.g. 'server_logout:logged out from another device'). */
  logged_out: { reason: LoggedOutReason };
  /**
   * At least once: a message whose acknowledgement never reached the server (the page crashed or
   * lost its storage right after the event) is given again on the next connection, then with
   * `redelivered: true`. Deduplicate by `id` with the sender (in either form: `sender` or `senderAlt`).
   */
  /** The type and its fields (MessageTypes), the key, raw: see below the Client class. */
  message: MessageTypes & {
    id: string;
    /** The chat: the phone-number JID (user@s.whatsapp.net) when known, else the LID (user@lid); a group's @g.us. */
    chat: string;
    /** The chat's other form: its LID when `chat` is a phone-number JID, or null when unknown (and for groups). */
    chatAlt: string | null;
    /** Who sent it, in the same order: phone-number JID when known, else LID. */
    sender: string;
    /** The sender's LID (when `sender` is the phone-number JID), or null when unknown. */
    senderAlt: string | null;
    /** How the service addressed it: 'lid' (most traffic today) or 'pn'; '' when it did not say. */
    addressingMode: 'lid' | 'pn' | '';
    fromMe: boolean; isGroup: boolean; pushName: string; text: string; time: number;
    /**
     * True when the message may have been given to the page before (see above): it came again from
     * the store, where it waits until its ack has left. A crash just before the first event also
     * leaves it there, so check your own records rather than dropping it.
     */
    redelivered: boolean;
    /** Image, video, audio, document and sticker messages: what the media is; client.downloadMedia(message) gets it. */
    media?: MediaInfo;
  };
  /** One history-sync blob of the phone after pairing: its conversations, messages oldest first. */
  history_sync: {
    syncType: 'initial_bootstrap' | 'recent' | 'full' | 'push_name' | 'non_blocking_data' | 'on_demand' | (string & {});
    chunkOrder: number;
    /** How far the phone's whole transfer is, 0 to 100. */
    progress: number;
    conversations: { id: string; name?: string; unreadCount: number; messages: Events['message'][] }[];
  };
  /** Names learned from app state (the address book: fullName, firstName) or push names; only those learned are set. */
  'contacts.update': { contacts: { jid: string; fullName?: string; firstName?: string; pushName?: string }[] };
  /** Chat settings from app state; only those that changed are set. muteEndTime: unix ms, -1 for ever. */
  'chats.update': { chats: { jid: string; muted?: boolean; muteEndTime?: number; pinned?: boolean; archived?: boolean; read?: boolean }[] };
  remote_session_saved: { session: string; bytes: number; records: number; savedAt: number; format: string; version: number };
  error: WasmeowError;
  /** Messages reached the reader's device ('delivered'), or were read or played there. fromMe: the reader is one of our own devices. */
  receipt: {
    type: 'delivered' | 'read' | 'played'; ids: string[]; chat: string; chatAlt: string | null;
    reader: string; readerAlt: string | null; fromMe: boolean; isGroup: boolean; time: number;
  };
  /** A contact subscribed to with subscribePresence went online or offline (lastSeen: ms, when shared). */
  presence: { jid: string; available: boolean; lastSeen: number | null };
  /** Someone is typing ('composing'), recording a voice message, or stopped ('paused'). */
  chat_presence: { chat: string; sender: string; state: 'composing' | 'paused' | 'recording' };
  /** A group changed (only the changed fields are set), or we joined one (joined, with info). */
  'group.update': {
    jid: string; author: string | null; time: number; joined?: boolean; info?: GroupInfo;
    name?: string; topic?: string; announce?: boolean; locked?: boolean;
    added?: string[]; removed?: string[]; promoted?: string[]; demoted?: string[]; inviteLink?: string;
  };
}

export type ClientState = 'idle' | 'connecting' | 'qr' | 'ready' | 'disconnected' | 'reconnecting' | 'logged_out' | 'destroyed';

export class Client {
  readonly clientId: string;
  readonly strategy: 'none' | 'local' | 'remote' | 'custom';
  readonly state: ClientState;
  readonly isConnected: boolean;
  readonly isLoggedIn: boolean;
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): this;
  once<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): this;
  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): this;
  /** Resolves with the next such event; rejects with code 'timeout'. */
  waitFor<E extends keyof Events>(event: E, timeoutMs?: number): Promise<Events[E]>;
  /** Opens the connection; resolves once the socket is up (then qr or authenticated/ready follow). */
  connect(): Promise<void>;
  /** Connects when needed; resolves with the code once the server accepted the number. */
  requestPairingCode(phone: string): Promise<string>;
  /**
   * Sends a text. jid: a phone-number JID (user@s.whatsapp.net or whatsapp-web.js's user@c.us), a LID
   * (user@lid), a group (id@g.us) or a bare phone number. Resolves with the message id once the server
   * acknowledged it; rejects with 'send_failed' (the message names the reason, e.g. 463: no privacy token).
   */
  sendText(jid: string, text: string): Promise<string>;
  /**
   * A snapshot of the paired session (docs/SNAPSHOT.md), for backups and moving it elsewhere. It holds
   * the private keys: keep it as secret as the browser profile, or seal it with a passphrase
   * (options.passphrase; importSession then needs it). Rejects with 'not_logged_in' before pairing.
   */
  exportSession(options?: ExportOptions): Promise<Uint8Array>;
  /**
   * The session as a Baileys auth state ({creds, keys}, and the same as useMultiFileAuthState's files),
   * keeping the link and the Signal sessions (docs/AUTHSTATE.md); what Baileys cannot hold is listed in
   * dropped. Disconnect first, and never run both copies.
   */
  exportBaileysSession(): Promise<BaileysExport>;
  /** Logs the device out on the server, then deletes the session (and its remote copy). */
  logout(): Promise<void>;
  disconnect(): Promise<void>;
  /** Disconnects and closes the session, keeping its data; every later call rejects with 'destroyed'. */
  destroy(): Promise<void>;
  /** Identifiers only: never key material. */
  getCreds(): CredsView;

  // ---- messages, receipts, presence, contacts, groups ----
  // Bad arguments reject with 'invalid_option' (or 'invalid_jid', 'invalid_phone'); a refusal by
  // the service with 'send_failed'; before pairing 'not_logged_in', offline 'not_connected'.

  /**
   * Sends a message in Baileys' shapes (see MessageContent) and resolves with its key once the
   * server acknowledged it; in a 1:1 chat only once every device of the recipient was included.
   */
  sendMessage(jid: string, content: MessageContent): Promise<MessageKey>;
  /** Sends read receipts for ids in chat; in a group, sender (the messages' author) is needed. */
  markRead(chat: string, ids: string[], sender?: string): Promise<void>;
  /** Our presence for contacts who subscribed to it (needs the push name, which the phone's app state gives). */
  sendPresence(state: 'available' | 'unavailable'): Promise<void>;
  /** Asks for jid's presence events. */
  subscribePresence(jid: string): Promise<void>;
  /** Says we are typing, recording a voice message, or stopped, in a chat. */
  sendChatPresence(jid: string, state: 'composing' | 'paused' | 'recording'): Promise<void>;
  /** Which phone numbers have WhatsApp. */
  isOnWhatsApp(phones: string[]): Promise<OnWhatsApp[]>;
  /** Status, picture id, devices and LID of users. */
  getUserInfo(jids: string[]): Promise<UserInfo[]>;
  /** The URL of a user's or group's picture; null when there is none or it is hidden from us. */
  getProfilePicture(jid: string): Promise<string | null>;
  /** The contacts the session's store holds (the phone's address book and push names). */
  getContacts(): Promise<Contact[]>;
  /** Creates a group (name: 1 to 25 characters) with us as owner. */
  createGroup(name: string, participants: string[]): Promise<GroupInfo>;
  getJoinedGroups(): Promise<GroupInfo[]>;
  getGroupInfo(jid: string): Promise<GroupInfo>;
  /** Each participant's result carries the service's error code when the change failed for them. */
  updateGroupParticipants(jid: string, action: 'add' | 'remove' | 'promote' | 'demote', participants: string[]): Promise<GroupParticipant[]>;
  setGroupName(jid: string, name: string): Promise<void>;
  /** '' removes the description. */
  setGroupTopic(jid: string, topic: string): Promise<void>;
  leaveGroup(jid: string): Promise<void>;
  /** https://chat.whatsapp.com/<code>; reset revokes the old link and makes a new one. */
  getGroupInviteLink(jid: string, reset?: boolean): Promise<string>;
  /** Joins by invite link (or its code); resolves with the group's JID. */
  joinGroupWithLink(link: string): Promise<string>;
}

/** A message as Baileys names it: remoteJid is the chat; participant the author in a group. */
export interface MessageKey {
  remoteJid: string;
  fromMe: boolean;
  id: string;
  participant?: string;
}

/** A message to quote: Baileys' {key, message} (message: the quoted content as protobuf JSON), or a message event. */
export type QuotedMessage = { key: MessageKey; message?: object } | { key: MessageKey; raw?: object };

/** sendMessage's content: one kind at a time. */
export type MessageContent =
  | { text: string; quoted?: QuotedMessage; mentions?: string[] }
  /** A reaction to key's message; text '' removes ours. */
  | { react: { key: MessageKey; text: string } }
  /** Edits our own message (key.fromMe) to text. */
  | { edit: MessageKey; text: string }
  /** Deletes a message for everyone (ours, or as a group admin another's). */
  | { delete: MessageKey }
  | { location: { degreesLatitude: number; degreesLongitude: number; name?: string; address?: string } }
  /** 2 to 12 distinct options (Baileys calls them values); selectableCount 0 (default): any number. */
  | { poll: { name: string; options?: string[]; values?: string[]; selectableCount?: number } }
  /** Our vote in the poll key names: the chosen option names ([] withdraws it). */
  | { vote: { key: MessageKey; options: string[] } }
  /** Any message, as protobuf JSON of waE2E.Message (e.g. {contactMessage: {displayName, vcard}}). */
  | { raw: object }
  /**
   * One media file (Uint8Array or Blob), encrypted and uploaded through mediaProxyURL, with its details;
   * 'media_failed' when the upload fails, 'message_too_large' over 100 MiB.
   */
  | MediaContent;

/** sendMessage's media content: the file under its type's key. */
export type MediaContent = { mimetype?: string; caption?: string; fileName?: string; ptt?: boolean; width?: number; height?: number; seconds?: number } & (
  | { image: Uint8Array | Blob } | { video: Uint8Array | Blob } | { audio: Uint8Array | Blob }
  | { document: Uint8Array | Blob } | { sticker: Uint8Array | Blob });

/** The typed part of a message event: `type` says which field is set; `raw` is the whole message as protobuf JSON. */
export type MessageTypes = {
  key: MessageKey;
  /** The quoted message of a reply (id, its author, its text when it has one). */
  quoted?: { id: string; sender: string; text?: string };
  /** JIDs mentioned in it. */
  mentions?: string[];
  /** The whole message (without its device-sent, ephemeral, view-once and edit envelopes) in protobuf JSON. */
  raw: Record<string, unknown>;
} & (
  | { type: 'text' }
  | { type: 'image' | 'video' | 'document'; caption?: string }
  | { type: 'audio' | 'sticker' }
  | { type: 'location' | 'live_location'; location: { degreesLatitude: number; degreesLongitude: number; name?: string; address?: string } }
  | { type: 'contact'; contact: { displayName: string; vcard: string } }
  | { type: 'contacts'; contacts: { displayName: string; vcard: string }[] }
  | { type: 'poll'; poll: { name: string; options: string[]; selectableCount: number } }
  /**
   * A vote in the poll key names, decrypted: the chosen options' SHA-256
   * (base64) and their names when this client saw the poll since it was made
   * (else null: match the hashes against your stored poll). error: why the
   * vote could not be read (its poll's secret is not in the store).
   */
  | { type: 'poll_vote'; pollVote: { key: MessageKey; selectedHashes: string[]; selectedOptions: string[] | null; error?: string } }
  /** An emoji on key's message; text '' removed it. */
  | { type: 'reaction'; reaction: { key: MessageKey; text: string } }
  /** key's message now reads text. */
  | { type: 'edit'; edit: { key: MessageKey; text: string } }
  /** key's message was deleted for everyone. */
  | { type: 'revoke'; revoke: { key: MessageKey } }
  /** Not modelled: read raw. */
  | { type: 'unknown' }
);

export interface OnWhatsApp { query: string; jid: string; isIn: boolean; verifiedName?: string }
export interface UserInfo { jid: string; lid: string | null; status: string; pictureId: string; devices: string[]; verifiedName?: string }
export interface Contact { jid: string; firstName: string; fullName: string; pushName: string; businessName: string }
export interface GroupParticipant {
  /** The phone-number JID when known, else the LID. */
  jid: string; lid: string | null; isAdmin: boolean; isSuperAdmin: boolean;
  /** The service's code when this participant's change failed (e.g. 403, 409). */
  error?: number;
}
export interface GroupInfo {
  jid: string; name: string; topic: string; owner: string | null; created: number;
  announce: boolean; locked: boolean; addressingMode: string; participants: GroupParticipant[];
}

/** What a message's media is, as its message event gives it (downloadMedia takes it back). */
export interface MediaInfo {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  mimetype: string;
  /** Bytes of the decrypted file. */
  size: number;
  fileName?: string;
  caption?: string;
  width?: number;
  height?: number;
  /** Video and audio. */
  seconds?: number;
  /** Audio: a voice note. */
  ptt?: boolean;
  url?: string;
  directPath: string;
  /** Base64: the key and hashes the download is decrypted and checked with. */
  mediaKey: string;
  fileSha256: string;
  fileEncSha256: string;
}

export interface Client {
  /** The decrypted bytes of a message's media (checked against its hashes); rejects with 'media_failed'. */
  downloadMedia(message: { media?: MediaInfo }): Promise<Uint8Array>;
}
