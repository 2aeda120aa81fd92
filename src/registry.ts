/**
 * Everything a process registers, in one explicit list: the operations its workers run for
 * others (the allow-list), the objects that may travel (codecs), and the kinds of correlated
 * randomness a crypto provider deals. Nothing is registered by merely importing a module: the
 * entry points (src/index.ts, src/thread-host.ts, the browser entry) call {@link registerAll}, and a
 * process that imported deep modules without it gets errors that name this file.
 */
import { publicKeyCodec, privateKeyCodec } from './he/key-codec.js';
import { remoteKeyCommands } from './he/remote-key.js';
import { fedavgCommands, receiptCodec } from './federated/fedavg.js';
import { dpCommands } from './dp/remote-noise.js';
import { beaverCommands, beaverCorrelations } from './mpc/beaver.js';
import { comparisonCommands, comparisonCorrelations } from './mpc/comparison.js';
import { reluCommands, reluCorrelations } from './mpc/relu.js';
import { argmaxCommands, argmaxCorrelations } from './mpc/argmax.js';
import { dealerCommands, registerCorrelations } from './mpc/dealer.js';
import { ringCodec } from './mpc/ring-codec.js';
import { sharingCommands } from './mpc/sharing.js';
import { truncationCommands, truncationCorrelations } from './mpc/truncation.js';
import { astCodec } from './tensors/additive-sharing.js';
import { autogradCodec } from './tensors/autograd.js';
import { chainCommands } from './tensors/chains.js';
import { tensorCommands } from './tensors/commands.js';
import { fixedPrecisionCommands, fptCodec } from './tensors/fixed-precision.js';
import { floatCodec } from './tensors/float.js';
import { paillierCodec, paillierCommands } from './tensors/paillier.js';
import { planCommands } from './plans/commands.js';
import { planCodec } from './plans/held-plan.js';
import { protocolCodec, protocolCommands } from './plans/protocol.js';
import { pointerCodec } from './tensors/pointer.js';
import { tensorSharingCommands } from './tensors/sharing.js';
import { type Codec, registerCodecs } from './workers/codec.js';
import { type CommandSpec, registerCommands } from './workers/commands.js';
import { moveCommands } from './workers/move.js';

/** The allow-list: every operation a worker of this package runs on request, by module. */
export const COMMANDS: readonly Readonly<Record<string, CommandSpec>>[] = [
  tensorCommands, // the op table (src/layer/ops.ts) and autograd hooks
  moveCommands, // move(): sendTo / recvFrom
  chainCommands, // pointer chains (remoteGet), tags and descriptions of stored objects
  fixedPrecisionCommands,
  tensorSharingCommands, // sharing a value a worker holds
  dealerCommands,
  beaverCommands,
  truncationCommands,
  comparisonCommands,
  reluCommands, // relu and its mask in one comparison's rounds
  argmaxCommands, // argmax of a narrow dim in one protocol
  sharingCommands, // refreshing shares
  paillierCommands,
  remoteKeyCommands, // Paillier keys that stay on a worker
  fedavgCommands,
  dpCommands, // distributed noise for secure aggregation (dp.noisyEncode)
  planCommands, // running a plan a worker holds
  protocolCommands,
];

/** Every kind of object that may travel, by its codec. */
export const CODECS: readonly Codec<never>[] = [
  floatCodec,
  ringCodec,
  autogradCodec,
  fptCodec,
  astCodec,
  pointerCodec,
  paillierCodec,
  publicKeyCodec,
  privateKeyCodec,
  receiptCodec,
  planCodec,
  protocolCodec,
] as unknown as Codec<never>[];

/** The correlated randomness a crypto provider deals. */
export const CORRELATIONS = [beaverCorrelations, truncationCorrelations, comparisonCorrelations, reluCorrelations, argmaxCorrelations];

let done = false;

/** Registers everything above (idempotent). The package entry calls it on import. */
export function registerAll(): void {
  if (done) return;
  for (const table of COMMANDS) registerCommands(table);
  registerCodecs(CODECS);
  for (const table of CORRELATIONS) registerCorrelations(table);
  done = true;
}
