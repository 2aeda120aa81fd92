/**
 * The WebSocket transport's own frames. Two kinds of WebSocket frame travel on a connection:
 *
 * - binary frames: one syft message each, in the serde format (`encodeMessage`), numbered
 *   implicitly in the order sent so a resumed session can resend what the other side missed;
 * - text frames: small JSON control frames of this transport (handshake, acks, goodbye).
 *
 * Handshake (the token never crosses the wire; both sides prove they know it):
 *
 *     server -> client  challenge {v, id, nonce, auth, maxMessageBytes, seal?}
 *     client -> server  hello     {v, role, id, nonce, ticket?, session?, received, proof, seal?}
 *     server -> client  welcome   {session, resumed, received, proof}      or refused {reason}
 *
 * After the welcome both sides drop what the other has received and resend the rest.
 *
 * Roles: `client` (an orchestrator: commands in, replies out) and `peer` (a party's protocol
 * values, with a ticket). `seal` carries ECDH public keys when
 * the connection runs through a relay (seal.ts). A worker that cannot listen offers idle
 * connections at a coordinator's `/join/<id>`; the coordinator sends `splice {id}` on one when a
 * caller dials `/relay/<id>`, and relays bytes from then on (outbound.ts, coordinator.ts).
 */
import { WireFormatError } from '../../errors.js';

/** Version 2 added relayed connections (`splice`, `seal`) and WebCrypto-friendly proofs. */
export const PROTOCOL_VERSION = 2;

/** Default largest binary frame (one message) a worker accepts: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Largest control (text) frame; control frames are tiny. */
export const MAX_CONTROL_BYTES = 4096;

/** Close codes (4000-4999 are free for applications). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  protocol: 4400,
  refused: 4401,
  handshakeTimeout: 4408,
  replaced: 4409,
} as const;

export type Role = 'client' | 'peer';

export interface Challenge {
  t: 'challenge';
  v: number;
  id: string;
  nonce: string;
  auth: boolean;
  maxMessageBytes: number;
  /** The worker's ECDH public key (hex), when it wants the link sealed end to end (a relayed link). */
  seal?: string;
}

export interface Hello {
  t: 'hello';
  v: number;
  role: Role;
  id: string;
  nonce: string;
  /** Peer role: the nonce of the ticket the orchestrator issued for this peer. */
  ticket?: string;
  /** The session to resume, if any. */
  session?: string;
  /** How many binary frames of that session this side has received. */
  received: number;
  proof: string;
  /** The dialler's ECDH public key (hex), answering a challenge's `seal`. */
  seal?: string;
}

export interface Welcome {
  t: 'welcome';
  session: string;
  resumed: boolean;
  received: number;
  proof: string;
}

export interface Refused {
  t: 'refused';
  reason: string;
}

export interface Ack {
  t: 'ack';
  n: number;
}

/** The client ends its session: the worker frees the session's objects now. */
export interface Bye {
  t: 'bye';
}

/** A coordinator hands a connection a worker offered to a caller; `id` names the relayed connection (logs). */
export interface Splice {
  t: 'splice';
  id: string;
}

/** The worker could not use a control frame (the connection stays open). */
export interface ControlError {
  t: 'error';
  reason: string;
}

export type Control = Challenge | Hello | Welcome | Refused | Ack | Bye | Splice | ControlError;

export const ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const HEX32_RE = /^[0-9a-f]{32}$/;
export const HEX64_RE = /^[0-9a-f]{64}$/;
/** A coordinator's path for a peer link to worker `<id>` that joined it (relayed, sealed end to end). */
export const RELAY_PATH = '/relay/';
/** A coordinator's path where a worker that cannot listen offers connections (`/join/<id>`). */
export const JOIN_PATH = '/join/';

/** True for the URL of a relayed peer link (`ws://coordinator/relay/<id>`). */
export function isRelayUrl(url: string): boolean {
  try {
    return new URL(url).pathname.startsWith(RELAY_PATH);
  } catch {
    return false;
  }
}

/** An uncompressed P-256 public key: 65 bytes, in hex. */
export const SEAL_RE = /^04[0-9a-f]{128}$/;

function fail(why: string): never {
  throw new WireFormatError(`bad control frame: ${why}`);
}

function keys(o: Record<string, unknown>, required: string[], optional: string[] = []): void {
  for (const k of required) if (!(k in o)) fail(`'${String(o.t)}' without '${k}'`);
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) fail(`'${String(o.t)}' with unexpected '${k}'`);
}

function str(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail(`${what} has the wrong format`);
  return v;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be a non-negative integer`);
  return v;
}

/** Parses and validates one untrusted text frame. Throws {@link WireFormatError}. */
export function parseControl(text: string): Control {
  if (text.length > MAX_CONTROL_BYTES) fail(`longer than ${MAX_CONTROL_BYTES} characters`);
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.getPrototypeOf(o) !== Object.prototype) fail('not an object');
  const m = o as Record<string, unknown>;
  switch (m.t) {
    case 'challenge':
      count(m.v, 'v');
      if (m.v !== PROTOCOL_VERSION) break; // the dialler explains the version mismatch
      keys(m, ['t', 'v', 'id', 'nonce', 'auth', 'maxMessageBytes'], ['seal']);
      if (m.seal !== undefined) str(m.seal, SEAL_RE, 'seal');
      str(m.id, ID_RE, 'id');
      str(m.nonce, HEX32_RE, 'nonce');
      if (typeof m.auth !== 'boolean') fail('auth must be true or false');
      count(m.maxMessageBytes, 'maxMessageBytes');
      break;
    case 'hello':
      count(m.v, 'v');
      if (m.v !== PROTOCOL_VERSION) break; // the worker explains the version mismatch
      keys(m, ['t', 'v', 'role', 'id', 'nonce', 'received', 'proof'], ['ticket', 'session', 'seal']);
      if (m.role !== 'client' && m.role !== 'peer') fail("role must be 'client' or 'peer'");
      if (m.seal !== undefined) str(m.seal, SEAL_RE, 'seal');
      str(m.id, ID_RE, 'id');
      str(m.nonce, HEX32_RE, 'nonce');
      if (m.ticket !== undefined) str(m.ticket, HEX32_RE, 'ticket');
      if ((m.role === 'peer') !== (m.ticket !== undefined)) fail('a ticket comes with the peer role, and only with it');
      if (m.session !== undefined) str(m.session, HEX32_RE, 'session');
      count(m.received, 'received');
      str(m.proof, HEX64_RE, 'proof');
      break;
    case 'welcome':
      keys(m, ['t', 'session', 'resumed', 'received', 'proof']);
      str(m.session, HEX32_RE, 'session');
      if (typeof m.resumed !== 'boolean') fail('resumed must be true or false');
      count(m.received, 'received');
      str(m.proof, HEX64_RE, 'proof');
      break;
    case 'refused':
    case 'error':
      keys(m, ['t', 'reason']);
      if (typeof m.reason !== 'string' || m.reason.length > 1024) fail('reason must be a short string');
      break;
    case 'ack':
      keys(m, ['t', 'n']);
      count(m.n, 'n');
      break;
    case 'bye':
      keys(m, ['t']);
      break;
    case 'splice':
      keys(m, ['t', 'id']);
      str(m.id, HEX32_RE, 'id');
      break;
    default:
      fail(`unknown type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
  return m as unknown as Control;
}

export function controlText(c: Control): string {
  return JSON.stringify(c);
}
