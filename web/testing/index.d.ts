// Types of wasmeow-testing (index.js).
import type { ChildProcess } from 'node:child_process';

/** The platform packages shipped, as `${process.platform}-${process.arch}`. */
export const PLATFORMS: readonly string[];
/** 'WASMEOW_FAKEWA': the environment variable naming a fakewa binary explicitly. */
export const BINARY_ENV: string;

/** $WASMEOW_FAKEWA if set, else the binary of @wasmeow/fakewa-<platform>-<arch>; throws saying what to install. */
export function fakewaBinary(): string;

export interface StartOptions {
  /** Default: fakewaBinary(). */
  binary?: string;
  /** Extra flags, e.g. ['-allow-outdated'], ['-pn-addressing'], ['-min-version', '2.3000.1']. */
  args?: string[];
  /** Start-up timeout in ms (default 20000). */
  timeout?: number;
}

/** Starts fakewa on a free loopback port. */
export function startFakewa(options?: StartOptions): Promise<Fakewa>;

/** A message a simulated phone received. */
export interface ReceivedMessage {
  id: string;
  /** The sending device's JID. */
  from: string;
  /** The sender's user JID. */
  chat: string;
  text: string;
  /** RFC 3339. */
  time: string;
  /** An image, video, audio, document or sticker, downloaded and decrypted by the phone. */
  media?: ReceivedMedia;
  /** The whole message in protobuf JSON (waE2E.Message). */
  raw?: Record<string, any>;
}

export interface ReceivedMedia {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  mimetype?: string;
  caption?: string;
  fileName?: string;
  size: number;
  width?: number;
  height?: number;
  seconds?: number;
  ptt?: boolean;
  directPath: string;
  /** The decrypted bytes, base64. */
  data?: string;
  /** Why the download failed. */
  error?: string;
}

export interface MediaSpec {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  data: Uint8Array;
  mimetype: string;
  caption?: string;
  fileName?: string;
  width?: number;
  height?: number;
  seconds?: number;
  /** audio: a voice note. */
  ptt?: boolean;
}

export interface DeviceInfo {
  jid: string;
  lid: string;
  platform: string;
  platformType?: string;
  clientType?: number;
  online: boolean;
  queued: number;
}

/** Minimal structural type of a Playwright Page (what pair() uses). */
export interface PageLike {
  waitForFunction(fn: () => unknown, arg?: unknown, options?: { timeout?: number }): Promise<{ jsonValue(): Promise<any> }>;
}

export interface PairOptions<P> {
  /** Returns the page's current QR code string (the qr event's code). Default: reads window.__wasmeowQR. */
  qr?: (page: P) => string | { code: string } | Promise<string | { code: string }>;
  /** The phone (or number) to pair as; default a new account. */
  phone?: Phone | string;
  /** ms until the device is linked and online again (default 30000). */
  timeout?: number;
}

export class Fakewa {
  /** The control API's base URL. */
  readonly baseURL: string;
  /** For loadWasmeow({ socketURL }). */
  readonly socketURL: string;
  /** For loadWasmeow({ trustRootKey }): base64. */
  readonly trustRootKey: string;
  /** fakewa's log lines. */
  readonly output: string[];
  readonly proc: ChildProcess;
  /** The control API (fakewa/doc.go in the wasmeow repository). Rejects with .status and .body on HTTP errors. */
  api(method: string, path: string, body?: unknown): Promise<any>;
  /** A new account with its simulated primary phone (a number is generated if none is given). */
  createPhone(number?: string, pushName?: string): Promise<Phone>;
  accounts(): Promise<Array<{ phone: string; jid: string; lid: string; pushName: string; devices: DeviceInfo[] }>>;
  connections(): Promise<Array<{ id: number; state: string; device?: string; version?: string; dict?: number }>>;
  /** Arms a cut of the next socket to open. */
  cutNext(options?: { afterFrames?: number }): Promise<void>;
  /** Cuts a device's socket now, or after afterFrames more server frames. */
  cut(device: string, options?: { afterFrames?: number }): Promise<void>;
  /** Server-side logout of a device. */
  logout(device: string): Promise<void>;
  settings(update?: { minVersion?: string; allowOutdated?: boolean; pnAddressing?: boolean; noTCTokenCheck?: boolean }): Promise<any>;
  /** Scans the page's QR with a simulated phone; resolves once the linked device is online again. */
  pair<P extends PageLike>(page: P, options?: PairOptions<P>): Promise<Pairing>;
  close(): Promise<void>;
}

export class Phone {
  readonly number: string;
  readonly jid: string;
  readonly lid: string;
  readonly pushName: string;
  /** Sends a text to a number, a user or group JID, or a Phone; resolves with the message id. */
  send(to: Phone | string, text: string): Promise<string>;
  /** Sends any message, given as a waE2E.Message in protobuf JSON; resolves with the message id. */
  sendMessage(to: Phone | string, message: Record<string, any>): Promise<string>;
  /** Uploads and sends a media message. */
  sendMedia(to: Phone | string, media: MediaSpec): Promise<{ id: string; directPath: string }>;
  /** Creates a group with this phone as admin. */
  createGroup(subject: string, participants?: Array<Phone | string>): Promise<{ jid: string; [key: string]: any }>;
  messages(): Promise<ReceivedMessage[]>;
  waitForMessage(match: string | ((m: ReceivedMessage) => boolean), options?: { timeout?: number }): Promise<ReceivedMessage>;
  devices(): Promise<DeviceInfo[]>;
}

export class Pairing {
  /** The simulated phone of the page's own account. */
  readonly phone: Phone;
  /** The linked device's JID. */
  readonly device: string;
  /** Cuts its socket (the client reconnects). */
  cut(options?: { afterFrames?: number }): Promise<void>;
  /** Server-side logout (the client gets logged_out). */
  logout(): Promise<void>;
  waitOnline(options?: { online?: boolean; timeout?: number }): Promise<DeviceInfo>;
}

/** Playwright fixtures: `base.extend(fixtures)` gives tests a worker-scoped `fakewa`. */
export const fixtures: {
  fakewaOptions: [StartOptions, { scope: 'worker'; option: true }];
  fakewa: [(args: { fakewaOptions: StartOptions }, use: (f: Fakewa) => Promise<void>) => Promise<void>, { scope: 'worker' }];
};

/** A caller of fakewa's control API at baseURL; an HTTP error rejects with .status and .body. */
export function controlAPI(baseURL: string): (method: string, path: string, body?: unknown) => Promise<any>;
