/**
 * TLS for workers beyond this machine. A worker refuses to listen on a non-loopback address
 * without TLS unless its owner opts out (`--insecure`), because a token protects the login but
 * not the tensors that follow. A worker with a self-signed certificate prints its SHA-256
 * fingerprint at start; a client can pin it (`connect(url, { fingerprint })`) instead of trusting
 * a certificate authority: the connection is refused unless the certificate's fingerprint is that
 * one, before anything is sent over it.
 */
import type * as NodeCrypto from 'node:crypto';
import { ProtocolError, StateError, ValueError } from '../../errors.js';
import { nodeBuiltin } from '../../util/node.js';

/** Whether `host` (a name or an address) can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** A certificate's SHA-256 fingerprint, as OpenSSL prints it (`AB:CD:…`, 32 bytes). */
export function certFingerprint(certPem: string | Buffer): string {
  const crypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');
  if (crypto === undefined) throw new StateError('certificate fingerprints need Node (node:crypto)');
  try {
    return new crypto.X509Certificate(certPem).fingerprint256;
  } catch (e) {
    throw new ValueError(`not a PEM certificate: ${(e as Error).message}`);
  }
}

/** A fingerprint as given (any case, with or without colons), normalised; a ValueError if it is not 32 bytes of hex. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new ValueError(`a certificate fingerprint is 32 bytes of hex (SHA-256, as the worker prints it), got '${fp.slice(0, 100)}'`);
  return hex.match(/../g)!.join(':');
}

/**
 * Checks the certificate a TLS socket was shown against a pinned fingerprint. Returns the error to
 * fail the connection with, or undefined when it matches.
 */
export function checkPinned(socket: unknown, pinned: string, url: string): Error | undefined {
  const s = socket as { getPeerCertificate?: () => { fingerprint256?: string } | null };
  const seen = s.getPeerCertificate?.()?.fingerprint256;
  if (seen === undefined) return new ProtocolError(`the worker at ${url} showed no TLS certificate, but its fingerprint is pinned: use wss://`);
  if (seen.toUpperCase() !== pinned) {
    return new ProtocolError(`the TLS certificate of ${url} has fingerprint ${seen}, not the pinned ${pinned}: it is not the worker you meant`);
  }
  return undefined;
}
