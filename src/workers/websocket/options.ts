/** Checks of the options both ends of the WebSocket transport take, with errors that say what to pass. */
import { ValueError } from '../../errors.js';
import { ID_RE } from './protocol.js';

/** A positive number of ms or bytes, or the default when left out. */
export function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${what} must be a positive number of ms/bytes, got ${v}`);
  return v;
}

/** A worker's address: a ws:// or wss:// URL. */
export function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValueError(`'${url}' is not a URL: a worker's address looks like ws://127.0.0.1:8778`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new ValueError(`'${url}' is not a WebSocket URL: use ws://host:port, or wss://host:port for TLS`);
  }
  return url;
}

/** A worker id, when one is given. */
export function checkWorkerId(id: unknown): void {
  if (id !== undefined && (typeof id !== 'string' || !ID_RE.test(id))) {
    throw new ValueError(`a worker id is 1-64 letters, digits or _.:- characters, got ${JSON.stringify(id)}`);
  }
}

/** A client's token, when one is given: a non-empty string. */
export function checkClientToken(token: unknown): string | undefined {
  if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
    throw new ValueError('token must be a non-empty string (or leave it out for a worker without a token)');
  }
  return token;
}
