/**
 * The dialling side's half of the handshake (handshake.ts has the frames' story and the answering
 * half): answer the challenge with a proven hello, check the welcome's proof, seal the link when
 * the answerer asked (a relayed link), and hand the socket to its new owner. The proofs are
 * asynchronous (WebCrypto in pages); frames that arrive while the welcome is checked wait for the
 * new owner, in order.
 */
import { AuthenticationError, ProtocolError, TimeoutError } from '../../errors.js';
import { type Transcript, helloProof, proofsMatch, randomHex, refusedError, welcomeProof } from './auth.js';
import type { Ticket } from './handshake.js';
import { CLOSE, type Challenge, PROTOCOL_VERSION, type Role, type Welcome, controlText, parseControl } from './protocol.js';
import { SealedSocket, type SealKeyPair, sealKeyPair, sealKeys } from './seal.js';
import { type FrameSocket, abandon } from './socket.js';

export interface DialHandshake {
  url: string;
  role: Role;
  /** The id this side gives (its owner's). */
  selfId: string;
  /** The worker id expected at `url`, if known. */
  expectId: string | undefined;
  /** The token (client role). */
  token: string | undefined;
  /** The ticket (peer role). */
  ticket: Ticket | undefined;
  /** The session to resume, and how many of its frames this side has received. */
  session: string | undefined;
  received: number;
  budgetMs: number;
  /** Refuse an answerer that does not seal the link (a link known to run through a relay). */
  requireSeal?: boolean;
}

/**
 * Runs the dialling side's half on a fresh `socket`. On a proven welcome, `adopt` takes the
 * socket over (sealed when the answerer asked); frames that came while the welcome was checked
 * are handed to the new owner's handlers, in order. Its result resolves the promise.
 */
export function dialHandshake<T>(socket: FrameSocket, h: DialHandshake, adopt: (socket: FrameSocket, welcome: Welcome, challenge: Challenge) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    let challenge: Challenge | undefined;
    let transcript: Transcript | undefined;
    let seal: SealKeyPair | undefined;
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
    const hello = async (c: Challenge): Promise<void> => {
      challenge = c;
      key = h.role === 'peer' ? h.ticket!.key : (h.token ?? '');
      if (c.seal !== undefined) seal = await sealKeyPair();
      transcript = {
        serverId: c.id,
        serverNonce: c.nonce,
        clientNonce: randomHex(),
        role: h.role,
        clientId: h.selfId,
        ticket: h.ticket?.nonce,
        serverSeal: c.seal,
        clientSeal: seal?.publicHex,
      };
      const proof = await helloProof(key, transcript, h.session);
      if (done) return;
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
          proof,
          ...(seal ? { seal: seal.publicHex } : {}),
        }),
      );
    };
    const welcomed = async (c: Welcome): Promise<void> => {
      // What the answerer sends right after its welcome waits here until the welcome is checked.
      const early: (() => void)[] = [];
      // (Replayed to the socket's handlers as they are then: the new owner's, or the seal's.)
      socket.onBinary = (f) => early.push(() => socket.onBinary?.(f));
      socket.onText = (text, bytes) => early.push(() => socket.onText?.(text, bytes));
      socket.onClose = (code, why) => early.push(() => socket.onClose?.(code, why));
      const proven = await proofsMatch(c.proof, await welcomeProof(key, transcript!, c.session, c.resumed));
      if (done) return;
      if (!proven) return fail(new AuthenticationError(`the worker at ${h.url} could not prove that it knows the token: it is not the worker you meant`));
      if (!c.resumed && c.received !== 0) return fail(new ProtocolError(`the worker at ${h.url} opened a new session mid-stream`));
      const keys = seal && (await sealKeys(seal, challenge!.seal!, { server: challenge!.nonce, client: transcript!.clientNonce }, 'client'));
      if (done) return;
      done = true;
      clearTimeout(timer);
      const target: FrameSocket = keys ? new SealedSocket(socket, keys) : socket;
      if (!keys) socket.onBinary = socket.onText = socket.onClose = undefined;
      socket.onError = () => {};
      try {
        resolve(adopt(target, c, challenge!));
      } catch (e) {
        reject(e as Error);
        return;
      }
      for (const f of early) f();
    };
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
        hello(c).catch((e: unknown) => fail(e as Error));
        return;
      }
      if (c.t !== 'welcome') return fail(new ProtocolError(`expected a welcome from ${h.url}, got '${c.t}'`));
      welcomed(c).catch((e: unknown) => fail(e as Error));
    };
  });
}

// The worker is the one meant, speaks this protocol, and wants a token exactly when we have one.
function checkChallenge(c: Challenge, h: DialHandshake): Error | undefined {
  if (c.v !== PROTOCOL_VERSION) {
    return new ProtocolError(
      `the worker at ${h.url} speaks protocol version ${c.v}, this side ${PROTOCOL_VERSION}: run the same syft-ts version on both ends`,
    );
  }
  if (h.expectId !== undefined && c.id !== h.expectId) {
    return new AuthenticationError(`expected worker '${h.expectId}' at ${h.url}, but the worker there is '${c.id}'`);
  }
  if (h.requireSeal && c.seal === undefined) return new ProtocolError(`the relayed link to ${h.url} is not sealed end to end: refusing to send values over it`);
  if (h.role !== 'peer' && c.auth && h.token === undefined) {
    return new AuthenticationError(`worker '${c.id}' at ${h.url} requires a token: connect(url, { token })`);
  }
  if (h.role !== 'peer' && !c.auth && h.token !== undefined) {
    return new AuthenticationError(
      `worker '${c.id}' at ${h.url} uses no token, but one was given: is it the worker you meant? ` +
        '(leave the token out to use a worker that has none)',
    );
  }
  return undefined;
}
