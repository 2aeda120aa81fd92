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

export { ready, type ReadyInfo, type ReadyOptions, type BackendName } from './backend.js';
export { Tensor, type TensorArg, type ShareOptions } from './tensor.js';
export { tensor, full, zeros, ones, randn, rand, type TensorOptions, type DType, type NestedData } from './factory.js';
export { tidy, keep } from './tensors/scope.js';
export { config, type Config } from './config.js';
export { noGrad } from './tensors/autograd.js';
export { manualSeed } from './util/seeded.js';

export { AbstractTensor, type Operand, type Dims } from './layer/abstract.js';
export { FloatTensor } from './tensors/float.js';
export { AutogradTensor } from './tensors/autograd.js';
export { PointerTensor } from './tensors/pointer.js';
export { GradFunc } from './tensors/gradients.js';
export { FixedPrecisionTensor, type PrecisionOptions } from './tensors/fixed-precision.js';
export { AdditiveSharingTensor } from './tensors/additive-sharing.js';
export { PaillierTensor, type PaillierEncryptOptions } from './tensors/paillier.js';

export { Worker, type RemoteWorker, type WorkerOptions, type Sender } from './workers/worker.js';
export { DEFAULT_LIMITS, type WorkerLimits } from './workers/limits.js';
export { VirtualWorker, type VirtualWorkerOptions } from './workers/virtual.js';
export { local } from './workers/local.js';
export { WebsocketClientWorker, type WebsocketClientOptions, type ClientEvents } from './workers/websocket/client.js';
export { OutboundWorker, type OutboundWorkerOptions } from './workers/websocket/outbound.js';
export type { Traffic, WorkerTraffic, WorkerStats } from './workers/websocket/traffic.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './workers/websocket/protocol.js';
export { PermissionError } from './workers/websocket/errors.js';
export { encodeMessage, decodeMessage } from './workers/serde.js';
export type { Message, WireValue, WireNode, ObjectId } from './workers/messages.js';

export * from './errors.js';
export { FixedPointOverflowError } from './ring/errors.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as ring from './ring/index.js';
export * as datasets from './data/datasets.js';
export * as transforms from './data/transforms.js';
export {
  BaseDataset,
  FederatedDataset,
  DataLoader,
  FederatedDataLoader,
  federate,
  type DatasetOptions,
  type Sample,
  type DataLoaderOptions,
  type FederatedDataLoaderOptions,
  type FederatedStep,
  type WorkerBatches,
  type Transform,
  type LoaderOptions,
} from './data/index.js';
export * as paillier from './he/index.js';
export * as federated from './federated/index.js';
export * as utils from './util/index.js';
export * as dp from './dp/index.js';
