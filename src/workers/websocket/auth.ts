/**
 * Authentication for the WebSocket transport.
 *
 * Trust model (the one PySyft's SMPC assumes: honest-but-curious parties). Every party runs the
 * protocol as written but may try to learn from what it sees; outsiders may try anything. So:
 *
 * - A worker started with a token accepts a client only if the client proves it knows the token
 *   (an HMAC over both sides' fresh nonces, so the token never crosses the wire and a recorded
 *   handshake cannot be replayed). The worker proves it too, so a client never hands data to an
 *   impostor. Proofs are compared in constant time on equal-length digests.
 * - A client's declared id is what its commands carry as their sender. It is not a party
 *   identity: a client connection may not deliver protocol values (`peer` messages) at all.
 * - Parties authenticate to each other with tickets. The orchestrator, who holds a worker's
 *   token, derives a ticket key for one named peer: HMAC(token, worker id | peer id | nonce),
 *   and hands it to that peer (`connectPeer`). The peer proves the ticket key in its hello; the
 *   worker recomputes it from its token and the id the peer claims, so the id is authenticated:
 *   a party holding a ticket for "bob" cannot speak as "carol", and a ticket gives no other
 *   rights (a peer connection carries protocol values only, no commands).
 * - A worker that serves over connections it dialled (`OutboundWorker`: a page, a host behind
 *   NAT) answers the handshake on them as a listening worker does: callers relayed to it by a
 *   coordinator prove its token (clients) or a ticket derived from it (peers), and it proves the
 *   token back. The coordinator takes no part in the proofs.
 * - A worker started without a token authenticates nobody: fine on a laptop's loopback, not on a
 *   network. Use TLS (`wss:`) beyond loopback: the token is protected either way, the data is not.
 *
 * The HMACs are node:crypto's in Node and WebCrypto's in pages (hmac.ts): the same bytes, so a
 * page and a Node process authenticate each other.
 */
import { AuthenticationError, ValueError } from '../../errors.js';
import { toHex } from '../../util/hex.js';
import { randomBytes } from '../../util/random.js';
import { equalBytes, hmac, hmacSync, type HmacKey } from './hmac.js';
import type { Role } from './protocol.js';

/** A random 128-bit value as 32 hex characters (nonces, session ids). */
export function randomHex(bytes = 16): string {
  return toHex(randomBytes(bytes));
}

// Fields are ids and hex strings (checked before they get here): none contains a newline.
const text = (label: string, fields: readonly string[]): string => `${label}\n${fields.join('\n')}`;

/** What both handshake proofs cover. */
export interface Transcript {
  serverId: string;
  serverNonce: string;
  clientNonce: string;
  role: Role;
  clientId: string;
  ticket: string | undefined;
  /** The sealing keys (ECDH public keys, hex) of a relayed link: the worker's and the dialler's. */
  serverSeal?: string | undefined;
  clientSeal?: string | undefined;
}

function fields(t: Transcript): string[] {
  return [t.serverId, t.serverNonce, t.clientNonce, t.role, t.clientId, t.ticket ?? '', t.serverSeal ?? '', t.clientSeal ?? ''];
}

/** The client's proof that it holds `key` (the token, or a peer's ticket key). */
export async function helloProof(key: HmacKey, t: Transcript, resumeSession: string | undefined): Promise<string> {
  return toHex(await hmac(key, text('syft-ts/2 hello', [...fields(t), resumeSession ?? ''])));
}

/** The worker's proof that it holds `key`, bound to the session it assigned. */
export async function welcomeProof(key: HmacKey, t: Transcript, session: string, resumed: boolean): Promise<string> {
  return toHex(await hmac(key, text('syft-ts/2 welcome', [...fields(t), session, resumed ? '1' : '0'])));
}

const ticketText = (workerId: string, peerId: string, nonce: string) => text('syft-ts/2 peer-ticket', [workerId, peerId, nonce]);

/**
 * The key a peer uses to connect to worker `workerId` as `peerId`, derived from that worker's
 * token. Computed by the orchestrator (who holds the token) and by the worker itself.
 */
export function ticketKey(token: string | undefined, workerId: string, peerId: string, nonce: string): Promise<Uint8Array> {
  return hmac(token ?? '', ticketText(workerId, peerId, nonce));
}

/** {@link ticketKey} without waiting, where node:crypto is at hand (undefined elsewhere). */
export function ticketKeySync(token: string | undefined, workerId: string, peerId: string, nonce: string): Uint8Array | undefined {
  return hmacSync(token ?? '', ticketText(workerId, peerId, nonce));
}

/**
 * Constant-time comparison of two hex digests. Both are hashed to 32 bytes first, so the
 * comparison always runs over equal lengths and the time taken says nothing about where (or
 * whether) the inputs differ, nor about their lengths.
 */
export async function proofsMatch(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([hmac('syft-ts/2 compare', given), hmac('syft-ts/2 compare', expected)]);
  return equalBytes(a, b);
}

/** A token must be non-empty, printable and not absurdly long. */
export function checkToken(token: unknown, where = 'the token'): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new ValueError(`${where} is empty: put a long random secret in it (for example \`openssl rand -hex 32\`)`);
  }
  if (token.length > 4096 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new ValueError(`${where} must be at most 4096 printable ASCII characters without spaces`);
  }
}

/** The error a client sees when the worker refused its credentials. */
export function refusedError(url: string, reason: string): AuthenticationError {
  return new AuthenticationError(`the worker at ${url} refused the connection: ${reason}`);
}
