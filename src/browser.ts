/**
 * syft-ts in web pages: the browser entry of the package (`exports` condition `browser`, which
 * esbuild, vite and webpack pick when they bundle for the web). The same API as the Node entry
 * (src/index.ts) less what cannot run in a page — listening servers, worker processes, threads —
 * so a bundle needs no shims for Node's built-ins. WebSocket clients use the page's own
 * WebSocket, and their handshake WebCrypto. A house test keeps the two entries' names in step.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';            // in a page: this file
 * await sy.ready({ wasmPaths: '/wasm/' });  // where the app serves tfjs's .wasm files
 * const [alice, bob] = [new sy.VirtualWorker({ id: 'alice' }), new sy.VirtualWorker({ id: 'bob' })];
 * const x = sy.tensor([1, 2, 3]).fixPrecision().share(alice, bob);
 * console.log((await x.add(x).get()).floatPrecision().toString());   // tensor([2., 4., 6.])
 * ```
 *
 * @packageDocumentation
 */
// The allow-lists workers run from (the same explicit list as Node's entry).
import { registerAll } from './registry.js';

registerAll();

export * from './api.js';
