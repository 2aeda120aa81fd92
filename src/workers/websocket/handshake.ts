/**
 * The authentication handshake, both halves: what the worker that accepted a connection says
 * ({@link answerHandshake}) and what the side that dialled says ({@link dialHandshake}), and the
 * peer tickets an orchestrator mints for it ({@link mintTicket}). The proofs themselves are HMACs
 * (auth.ts); protocol.ts has the frames.
 *
 *     worker -> dialler  challenge {id, nonce, auth, maxMessageBytes}
 *     dialler -> worker  hello     {role, id, nonce, ticket?, session?, received, proof}
 *     worker -> dialler  welcome   {session, resumed, received, proof}      or refused {reason}
 *
 * Both proofs cover both nonces, both ids, the role and the ticket, so neither side can be
 * replayed or impersonated without the key: the worker's token for a client, the ticket key for
 * a peer (HMAC(token, worker id | peer id | nonce), which the worker recomputes from its token and
 * the id the peer claims, so a ticket authenticates that one id).
 */
import { AuthenticationError, ProtocolError, TimeoutError } from '../../errors.js';
import { type Transcript, helloProof, proofsMatch, randomHex, refusedError, ticketKey, welcomeProof } from './auth.js';
import { CLOSE, type Challenge, type Hello, PROTOCOL_VERSION, type Role, type Welcome, controlText, parseControl } from './protocol.js';
import { type FrameSocket, abandon } from './socket.js';

/** A ticket a worker uses to connect to a peer: the nonce it names, and the key it proves. */
export interface Ticket {
  nonce: string;
  key: Uint8Array;
}

/** The orchestrator mints a ticket for `peerId` to connect to worker `workerId`, whose token it holds. */
export function mintTicket(token: string | undefined, workerId: string, peerId: string): { nonce: string; keyHex: string } {
  const nonce = randomHex();
  return { nonce, keyHex: ticketKey(token, workerId, peerId, nonce).toString('hex') };
}

// ---- the worker's half ----------------------------------------------------------------------

/** A session the worker let a hello open or resume. */
export interface Admitted {
  id: string;
  resumed: boolean;
  /** Binary frames of the session the worker has received. */
  received: number;
  /** Carries the session over `socket` from now on; throws when `otherReceived` is impossible. */
  attach(socket: FrameSocket, otherReceived: number): void;
}

export interface HandshakeHost {
  readonly id: string;
  readonly token: string | undefined;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number;
  log(line: string): void;
  /** Resumes the session `hello` names (same identity only) or opens one; a string refuses, saying why. */
  admit(hello: Hello): Admitted | string;
  /** Counts a refused handshake (bad credentials, bad hello). */
  refused(): void;
}

/** Runs the worker's half on a new connection: challenge, check the hello, welcome or refuse. */
export function answerHandshake(socket: FrameSocket, host: HandshakeHost, address: string): void {
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
    socket.onBinary = socket.onText = undefined;
    welcome(socket, host, hello, nonce, address, refuse);
  };
  socket.send(controlText({ t: 'challenge', v: PROTOCOL_VERSION, id: host.id, nonce, auth: host.token !== undefined, maxMessageBytes: host.maxMessageBytes }));
}

function welcome(socket: FrameSocket, host: HandshakeHost, hello: Hello, serverNonce: string, address: string, refuse: (code: number, reason: string) => void): void {
  if (hello.v !== PROTOCOL_VERSION) {
    return refuse(CLOSE.protocol, `protocol version ${hello.v} is not supported (this worker speaks ${PROTOCOL_VERSION})`);
  }
  if (hello.role === 'peer' && hello.id === host.id) return refuse(CLOSE.refused, "a peer cannot use this worker's own id");
  const t: Transcript = { serverId: host.id, serverNonce, clientNonce: hello.nonce, role: hello.role, clientId: hello.id, ticket: hello.ticket };
  const key = hello.role === 'peer' ? ticketKey(host.token, host.id, hello.id, hello.ticket!) : (host.token ?? '');
  if (!proofsMatch(hello.proof, helloProof(key, t, hello.session))) {
    host.log(`refused ${hello.role} '${hello.id}' from ${address}: bad credentials`);
    return refuse(CLOSE.refused, hello.role === 'peer' ? 'invalid peer ticket' : 'wrong or missing token');
  }
  const s = host.admit(hello);
  if (typeof s === 'string') return refuse(CLOSE.refused, s);
  socket.send(controlText({ t: 'welcome', session: s.id, resumed: s.resumed, received: s.received, proof: welcomeProof(key, t, s.id, s.resumed) }));
  try {
    s.attach(socket, s.resumed ? hello.received : 0);
  } catch (e) {
    return refuse(CLOSE.protocol, (e as Error).message);
  }
  host.log(`${s.resumed ? 'resumed' : 'opened'} ${hello.role} session of '${hello.id}' from ${address}`);
}

// ---- the dialling side's half ---------------------------------------------------------------

export interface DialHandshake {
  url: string;
  role: Role;
  /** The id this side gives (its owner's). */
  selfId: string;
  /** The worker id expected at `url`, if known. */
  expectId: string | undefined;
  /** The worker's token (client role). */
  token: string | undefined;
  /** The ticket (peer role). */
  ticket: Ticket | undefined;
  /** The session to resume, and how many of its frames this side has received. */
  session: string | undefined;
  received: number;
  budgetMs: number;
}

/**
 * Runs the dialling side's half on a fresh `socket`. On a proven welcome, `adopt` takes the
 * socket over inside the welcome's own handler (frames the worker resends right after its
 * welcome must find the new owner's handlers in place); its result resolves the promise.
 */
export function dialHandshake<T>(socket: FrameSocket, h: DialHandshake, adopt: (welcome: Welcome, challenge: Challenge) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    let challenge: Challenge | undefined;
    let transcript: Transcript | undefined;
    let key: Uint8Array | string = '';
    const timer = setTimeout(() => fail(new TimeoutError(`no handshake with the worker at ${h.url} within ${h.budgetMs} ms`)), h.budgetMs);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      abandon(socket);
      reject(e);
    };
    socket.onError = fail;
    socket.onClose = (code, why) =>
      fail(
        code === CLOSE.refused
          ? refusedError(h.url, why)
          : new ProtocolError(`the worker at ${h.url} closed the connection during the handshake (${code}${why ? `: ${why}` : ''})`),
      );
    socket.onBinary = () => fail(new ProtocolError(`the worker at ${h.url} sent data before the handshake`));
    socket.onText = (text) => {
      let c;
      try {
        c = parseControl(text);
      } catch (e) {
        return fail(new ProtocolError(`the worker at ${h.url} does not speak the syft-ts protocol: ${(e as Error).message}`));
      }
      if (c.t === 'refused') return fail(refusedError(h.url, c.reason));
      if (!challenge) {
        if (c.t !== 'challenge') return fail(new ProtocolError(`expected a challenge from ${h.url}, got '${c.t}'`));
        const wrong = checkChallenge(c, h);
        if (wrong) return fail(wrong);
        challenge = c;
        key = h.role === 'peer' ? h.ticket!.key : (h.token ?? '');
        transcript = { serverId: c.id, serverNonce: c.nonce, clientNonce: randomHex(), role: h.role, clientId: h.selfId, ticket: h.ticket?.nonce };
        socket.send(
          controlText({
            t: 'hello',
            v: PROTOCOL_VERSION,
            role: h.role,
            id: h.selfId,
            nonce: transcript.clientNonce,
            ...(h.ticket ? { ticket: h.ticket.nonce } : {}),
            ...(h.session ? { session: h.session } : {}),
            received: h.session ? h.received : 0,
            proof: helloProof(key, transcript, h.session),
          }),
        );
        return;
      }
      if (c.t !== 'welcome') return fail(new ProtocolError(`expected a welcome from ${h.url}, got '${c.t}'`));
      if (!proofsMatch(c.proof, welcomeProof(key, transcript!, c.session, c.resumed))) {
        return fail(new AuthenticationError(`the worker at ${h.url} could not prove that it knows the token: it is not the worker you meant`));
      }
      if (!c.resumed && c.received !== 0) return fail(new ProtocolError(`the worker at ${h.url} opened a new session mid-stream`));
      done = true;
      clearTimeout(timer);
      socket.onBinary = socket.onText = socket.onClose = undefined;
      socket.onError = () => {};
      try {
        resolve(adopt(c, challenge));
      } catch (e) {
        reject(e as Error);
      }
    };
  });
}

// The worker is the one meant, speaks this protocol, and wants a token exactly when we have one.
function checkChallenge(c: Challenge, h: DialHandshake): Error | undefined {
  if (c.v !== PROTOCOL_VERSION) return new ProtocolError(`the worker at ${h.url} speaks protocol version ${c.v}, this client ${PROTOCOL_VERSION}`);
  if (h.expectId !== undefined && c.id !== h.expectId) {
    return new AuthenticationError(`expected worker '${h.expectId}' at ${h.url}, but the worker there is '${c.id}'`);
  }
  if (h.role === 'client' && c.auth && h.token === undefined) {
    return new AuthenticationError(`worker '${c.id}' at ${h.url} requires a token: connect(url, { token })`);
  }
  if (h.role === 'client' && !c.auth && h.token !== undefined) {
    return new AuthenticationError(
      `worker '${c.id}' at ${h.url} uses no token, but one was given: is it the worker you meant? ` +
        '(leave the token out to use a worker that has none)',
    );
  }
  return undefined;
}
