/**
 * How this runtime opens WebSockets by default: Node's `ws` package once the Node entry plugged
 * it in ({@link useNodeDial}: src/index.ts and the Node barrel of this folder do), else the
 * runtime's own standard `WebSocket` (pages, web workers). Kept apart so that the portable code
 * never imports the `ws` package.
 */
import { StateError } from '../../errors.js';
import { dialBrowser } from './browser-socket.js';
import type { Dial } from './socket.js';

let nodeDial: Dial | undefined;

/** Makes `dial` (node-socket.ts's `dialNode`) the default: Node's entry points call this. */
export function useNodeDial(dial: Dial): void {
  nodeDial = dial;
}

/** The default way to dial here: the `ws` package in Node, else the global `WebSocket`. */
export function defaultDial(): Dial {
  if (nodeDial !== undefined) return nodeDial;
  if (typeof globalThis.WebSocket === 'function') return dialBrowser;
  throw new StateError(
    "no WebSocket here: in Node import 'syft-ts' (its Node entry brings the ws package); elsewhere the runtime needs a global WebSocket",
  );
}
