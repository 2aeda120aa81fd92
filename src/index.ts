/**
 * syft-ts: privacy-preserving deep learning in TypeScript, with PySyft's layered tensors.
 *
 * @example
 * ```ts
 * import * as sy from 'syft-ts';
 * await sy.ready();
 * const bob = new sy.VirtualWorker({ id: 'bob' });
 * const x = sy.tensor([1, 2, 3]).send(bob);
 * console.log((await x.add(x).get()).toString());   // tensor([2., 4., 6.])
 * ```
 *
 * @packageDocumentation
 */
// Registers the operations workers may run, the objects that may travel and the randomness a
// crypto provider deals (allow-lists filled here, from one explicit list — never from a message).
import { registerAll } from './registry.js';

registerAll();

export { ready, type ReadyInfo, type ReadyOptions, type BackendName, type WasmFile } from './backend.js';
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
export { ThreadWorker, type ThreadWorkerOptions } from './workers/thread/thread-worker.js';
export {
  WebsocketServerWorker,
  WebsocketClientWorker,
  startWorkerProcess,
  readTokenFile,
  type WebsocketServerWorkerOptions,
  type WebsocketClientOptions,
  type WorkerProcess,
  type WorkerProcessOptions,
  type Traffic,
  type WorkerTraffic,
  type WorkerStats,
  Coordinator,
  OutboundWorker,
  type CoordinatorOptions,
  type OutboundWorkerOptions,
  type RelayTraffic,
  ClientIdentities,
  type AdmissionLimits,
  type SessionLimits,
} from './workers/websocket/index.js';
export { encodeMessage, decodeMessage } from './workers/serde.js';
export type { Message, WireValue, WireNode, ObjectId } from './workers/messages.js';
export type { PostMessage, RequestMessage, ReplyMessage, WireError } from './workers/messages.js';
export type { Shape } from './shapes.js';
export type { Pem, Dial, DialOptions, FrameSocket } from './workers/websocket/socket.js';
export type { SearchQuery } from './workers/search.js';
export type { Pair } from './layer/window.js';
export type { Releasable } from './tensors/scope.js';

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
export { Plan, PlanState, PointerPlan, PlanError, Protocol, func2plan, type PlanOptions, type PlanOutput, type ProtocolWorker } from './plans/index.js';
export * as mpc from './plans/offline.js';
