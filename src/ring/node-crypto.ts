// Access to node:crypto without a static import, so browser bundles never see it.
import type * as NodeCrypto from 'node:crypto';

type NodeCryptoModule = typeof NodeCrypto;

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const proc = (globalThis as { process?: NodeProcess }).process;
const isNode = typeof proc?.versions?.node === 'string';

// Node >= 20.16 hands out built-ins synchronously; older Node 20 needs the async import below.
let cached: NodeCryptoModule | undefined = isNode
  ? (proc?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined)
  : undefined;

/** node:crypto when running in Node and already loaded, else undefined. */
export function nodeCrypto(): NodeCryptoModule | undefined {
  return cached;
}

/** Loads node:crypto in Node (a no-op elsewhere). initRing() calls this. */
export async function loadNodeCrypto(): Promise<NodeCryptoModule | undefined> {
  if (cached === undefined && isNode) {
    const specifier = 'node:crypto';
    cached = (await import(/* @vite-ignore */ specifier)) as NodeCryptoModule;
  }
  return cached;
}
