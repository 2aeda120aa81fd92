/**
 * The authentication handshake, both halves: what the side that answers a connection says
 * ({@link answerHandshake}: a listening worker, or a worker answering over a
 * relayed socket it dialled) and what the side that dialled says ({@link dialHandshake}), and the
 * peer tickets an orchestrator mints for it ({@link mintTicket}). The proofs themselves are HMACs
 * (auth.ts); protocol.ts has the frames; seal.ts the keys of relayed links.
 *
 *     answerer -> dialler  challenge {v, id, nonce, auth, maxMessageBytes, seal?}
 *     dialler -> answerer  hello     {v, role, id, nonce, ticket?, session?, received, proof, seal?}
 *     answerer -> dialler  welcome   {session, resumed, received, proof}      or refused {reason}
 *
 * Both proofs cover both nonces, both ids, the role, the ticket and the sealing keys, so neither
 * side can be replayed or impersonated without the key: the token for a client (and for the
 * worker proving it back), the ticket key for a peer (HMAC(token, worker id | peer id | nonce), which the answerer
 * recomputes from its token and the id the peer claims, so a ticket authenticates that one id).
 * The proofs are asynchronous (WebCrypto in pages). The dialling half is in handshake-dial.ts.
 */
import { ProtocolError } from '../../errors.js';
import { toHex } from '../../util/hex.js';
import { type Transcript, helloProof, proofsMatch, randomHex, ticketKey, ticketKeySync, welcomeProof } from './auth.js';
import { type ClientIdentities, provenKey } from './identities.js';
import { CLOSE, type Hello, PROTOCOL_VERSION, type Role, controlText, parseControl } from './protocol.js';
import { SealedSocket, type SealKeyPair, sealKeyPair, sealKeys } from './seal.js';
import type { FrameSocket } from './socket.js';

/** A ticket a worker uses to connect to a peer: the nonce it names, and the key it proves. */
export interface Ticket {
  nonce: string;
  key: Uint8Array;
}

/** The orchestrator mints a ticket for `peerId` to connect to worker `workerId`, whose token it holds. */
export async function mintTicket(token: string | undefined, workerId: string, peerId: string): Promise<{ nonce: string; keyHex: string }> {
  const nonce = randomHex();
  return { nonce, keyHex: toHex(await ticketKey(token, workerId, peerId, nonce)) };
}

/** {@link mintTicket} without waiting where node:crypto is at hand; undefined elsewhere. */
export function mintTicketSync(token: string | undefined, workerId: string, peerId: string): { nonce: string; keyHex: string } | undefined {
  const nonce = randomHex();
  const key = ticketKeySync(token, workerId, peerId, nonce);
  return key && { nonce, keyHex: toHex(key) };
}

// ---- the answering half ---------------------------------------------------------------------

/** A session the answerer let a hello open or resume. */
export interface Admitted {
  id: string;
  resumed: boolean;
  /** Binary frames of the session the answerer has received. */
  received: number;
  /** Carries the session over `socket` from now on; throws when `otherReceived` is impossible. */
  attach(socket: FrameSocket, otherReceived: number): void;
}

export interface HandshakeHost {
  readonly id: string;
  readonly token: string | undefined;
  /** Tokens per client (identities.ts); when set, `token` is not used for clients and peers. */
  readonly clients?: ClientIdentities | undefined;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number;
  /** The roles a dialler may take here (a worker: client and peer). */
  readonly roles: readonly Role[];
  log(line: string): void;
  /** Resumes the session `hello` names (same identity only) or opens one; a string refuses, saying why. */
  admit(hello: Hello, issuer?: string): Admitted | string;
  /** Counts a refused handshake (bad credentials, bad hello). */
  refused(): void;
}

/**
 * Runs the answering half on a new connection: challenge, check the hello, welcome or refuse.
 * With `seal` (a socket that runs through a relay) the link is sealed end to end (seal.ts).
 */
export function answerHandshake(socket: FrameSocket, host: HandshakeHost, address: string, opts: { seal?: boolean } = {}): void {
  const nonce = randomHex();
  const refuse = (code: number, reason: string): void => {
    socket.onBinary = socket.onText = undefined;
    if (code === CLOSE.refused || code === CLOSE.protocol) host.refused();
    if (socket.isOpen) {
      socket.send(controlText({ t: 'refused', reason }));
      socket.close(code, reason.slice(0, 120));
    }
  };
  const timer = setTimeout(() => refuse(CLOSE.handshakeTimeout, `no hello within ${host.timeoutMs} ms`), host.timeoutMs);
  socket.onClose = () => clearTimeout(timer);
  const start = (seal: SealKeyPair | undefined): void => {
    socket.onBinary = () => {
      if (!socket.isOpen) return;
      clearTimeout(timer);
      refuse(CLOSE.protocol, 'the handshake comes first: send a hello');
    };
    socket.onText = (text) => {
      if (!socket.isOpen) return;
      clearTimeout(timer);
      let hello: Hello;
      try {
        const c = parseControl(text);
        if (c.t !== 'hello') throw new ProtocolError(`expected a hello, got '${c.t}'`);
        hello = c;
      } catch (e) {
        return refuse(CLOSE.protocol, (e as Error).message);
      }
      // Nothing more may come before the welcome.
      socket.onBinary = socket.onText = () => refuse(CLOSE.protocol, 'nothing may follow a hello before the welcome');
      welcome(socket, host, hello, nonce, seal, address, refuse).catch((e: unknown) => refuse(CLOSE.protocol, (e as Error).message));
    };
    socket.send(
      controlText({
        t: 'challenge',
        v: PROTOCOL_VERSION,
        id: host.id,
        nonce,
        auth: host.token !== undefined || host.clients !== undefined,
        maxMessageBytes: host.maxMessageBytes,
        ...(seal ? { seal: seal.publicHex } : {}),
      }),
    );
  };
  if (!opts.seal) return start(undefined);
  sealKeyPair().then(start, (e: unknown) => refuse(CLOSE.protocol, `cannot make sealing keys: ${(e as Error).message}`));
}

async function welcome(
  socket: FrameSocket,
  host: HandshakeHost,
  hello: Hello,
  serverNonce: string,
  seal: SealKeyPair | undefined,
  address: string,
  refuse: (code: number, reason: string) => void,
): Promise<void> {
  if (hello.v !== PROTOCOL_VERSION) {
    return refuse(
      CLOSE.protocol,
      `protocol version ${hello.v} is not supported (this side speaks ${PROTOCOL_VERSION}): run the same syft-ts version on both ends`,
    );
  }
  if (!host.roles.includes(hello.role)) {
    return refuse(CLOSE.refused, `'${host.id}' does not take the '${hello.role}' role (it takes ${host.roles.join(', ')})`);
  }
  // The worker's own id is its owner's identity (may do anything): no connection may take it.
  if (hello.id === host.id) return refuse(CLOSE.refused, `a ${hello.role} cannot use this worker's own id`);
  if ((seal === undefined) !== (hello.seal === undefined)) return refuse(CLOSE.protocol, seal ? 'this relayed link must be sealed: send seal' : 'unexpected seal');
  const t: Transcript = {
    serverId: host.id,
    serverNonce,
    clientNonce: hello.nonce,
    role: hello.role,
    clientId: hello.id,
    ticket: hello.ticket,
    serverSeal: seal?.publicHex,
    clientSeal: hello.seal,
  };
  const proven = await provenKey(host, host.id, hello, async (k) => proofsMatch(hello.proof, await helloProof(k, t, hello.session)));
  if (proven === undefined) {
    host.log(`refused ${hello.role} '${hello.id}' from ${address}: bad credentials`);
    return refuse(CLOSE.refused, hello.role === 'peer' ? 'invalid peer ticket' : 'wrong or missing token');
  }
  const keys = seal && (await sealKeys(seal, hello.seal!, { server: serverNonce, client: hello.nonce }, 'server'));
  if (!socket.isOpen) return;
  const { key, issuer } = proven;
  const s = host.admit(hello, issuer);
  if (typeof s === 'string') return refuse(CLOSE.refused, s);
  const proof = await welcomeProof(key, t, s.id, s.resumed);
  if (!socket.isOpen) return;
  socket.send(controlText({ t: 'welcome', session: s.id, resumed: s.resumed, received: s.received, proof }));
  try {
    s.attach(keys ? new SealedSocket(socket, keys) : socket, s.resumed ? hello.received : 0);
  } catch (e) {
    return refuse(CLOSE.protocol, (e as Error).message);
  }
  host.log(`${s.resumed ? 'resumed' : 'opened'} ${hello.role} session of '${hello.id}' from ${address}${seal ? ' (relayed, sealed)' : ''}`);
}
