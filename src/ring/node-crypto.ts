// node:crypto for the ring's randomness, reached through util/node.ts so browser bundles never see it.
import type * as NodeCrypto from 'node:crypto';
import { loadNodeBuiltin, nodeBuiltin } from '../util/node.js';

type NodeCryptoModule = typeof NodeCrypto;

/** node:crypto when running in Node and already loaded, else undefined. */
export function nodeCrypto(): NodeCryptoModule | undefined {
  return nodeBuiltin<NodeCryptoModule>('node:crypto');
}

/** Loads node:crypto in Node (a no-op elsewhere). initRing() calls this. */
export function loadNodeCrypto(): Promise<NodeCryptoModule | undefined> {
  return loadNodeBuiltin<NodeCryptoModule>('node:crypto');
}
