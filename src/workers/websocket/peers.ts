/**
 * How workers in different processes come to talk to each other.
 *
 * Parties of a protocol exchange values directly, never through the orchestrator. The
 * orchestrator introduces them: `bobClient.introduce(aliceClient)` (which `move()` and the SMPC
 * layers call) sends bob a `connectPeer` request carrying alice's id, her URL and a ticket for
 * bob derived from alice's token (auth.ts). Bob opens his own connection to alice with it — the
 * "peer link" — and sends protocol values over it; alice attributes them to the peer id the
 * ticket authenticated, never to anything a message says. A link carries protocol values one
 * way (bob to alice); alice reaches bob over her own link once she is introduced to him.
 *
 * `connectPeer` is a request, so it runs in order with bob's other messages (a `sendTo` posted
 * after it finds the link ready) and its failure comes back to the orchestrator as a rejection.
 */
import { WireFormatError } from '../../errors.js';
import type { WireValue } from '../messages.js';
import { HEX32_RE, HEX64_RE, ID_RE } from './protocol.js';

export interface PeerIntroduction {
  id: string;
  url: string;
  nonce: string;
  key: Buffer;
}

function bad(why: string): never {
  throw new WireFormatError(`connectPeer: ${why}`);
}

/** Checks every argument of a `connectPeer` request: `[id, url, ticketNonce, ticketKeyHex]`. */
export function parseConnectPeer(args: readonly WireValue[], selfId: string): PeerIntroduction {
  if (args.length !== 4) bad('expects [peer id, url, ticket nonce, ticket key]');
  const [id, url, nonce, key] = args;
  if (typeof id !== 'string' || !ID_RE.test(id)) bad('the peer id must be 1-64 letters, digits or _.:- characters');
  if (id === selfId) bad(`a worker does not connect to itself ('${selfId}')`);
  if (typeof url !== 'string' || url.length > 2048) bad('the url must be a string of at most 2048 characters');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    bad(`'${url.slice(0, 100)}' is not a URL`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') bad('the url must be ws:// or wss://');
  if (u.username !== '' || u.password !== '') bad('the url must not carry credentials');
  if (typeof nonce !== 'string' || !HEX32_RE.test(nonce)) bad('the ticket nonce must be 32 hex characters');
  if (typeof key !== 'string' || !HEX64_RE.test(key)) bad('the ticket key must be 64 hex characters');
  return { id, url, nonce, key: Buffer.from(key, 'hex') };
}
