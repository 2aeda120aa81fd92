/**
 * relu on shares in the rounds of one comparison: relu(x) and the 0/1 mask [x > 0] together.
 *
 * Why. relu(x) = x · mask, and op by op that product is a Beaver multiplication after the
 * comparison: one more round, and 2n more words opened. But the comparison ends by opening
 * e = mask XOR rho, where rho is a random bit the dealer shared (see comparison.ts), and
 * mask = e + rho - 2 e rho. So x · mask = e x + (1 - 2e) · (x rho), and x rho needs only a value
 * the dealer can correlate with rho ahead of time: it shares a random a' and a' rho, the parties
 * open eps = x - a' in the comparison's first round (beside c = r - x; the two masks are
 * independent, so the pair is uniform), and x rho = eps rho + a' rho locally. The last round's
 * e then gives both outputs with local arithmetic: eight rounds where there were nine.
 */
import { RingTensor } from '../ring/index.js';
import type { CommandSpec } from '../workers/commands.js';
import type { WireValue } from '../workers/messages.js';
import type { HeldObject } from '../workers/held.js';
import type { RemoteWorker } from '../workers/worker.js';
import { comparisonCorrelations, comparisonStep, dealtStep, maskedMsb, msbDerivedShapes } from './comparison.js';
import { type CorrelationKind, receiveCorrelated } from './dealer.js';
import { bitsFromMasked, u32 } from './binary-kernels.js';
import { openAmong } from './protocol.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const reluCommands: Record<string, CommandSpec> = {};
const commands = reluCommands;

const msb = comparisonCorrelations.msb!;

/**
 * Dealer material of a relu over n elements (registered by src/registry.ts): a comparison's, and
 * a' (arith, n) with a' · rho (arith, n), rho's bits taken as integers.
 */
export const reluCorrelations: Record<string, CorrelationKind> = {
  relu: {
    check: (params) => msb.check?.(params),
    components: (params) => [...msb.components(params), (params[0] as number[]).slice()],
    componentSharing: (params) => [...(msb.componentSharing?.(params) ?? []), 'arith'],
    async derive(components, params) {
      const derived = await msb.derive(components.slice(0, 4), params);
      const rhoArith = derived[2]!;
      return [...derived, components[4]!.mul(rhoArith)];
    },
    derivedSharing: (params) => [...(msb.derivedSharing?.(params) ?? []), 'arith'],
  },
};

/** Orchestrator side: shares of relu(x) and of the mask [x > 0] (0/1 integers), per party. */
export function reluShared<H extends HeldObject<H>>(x: readonly H[], provider: RemoteWorker): { out: H[]; mask: H[] } {
  const shape = x[0]!.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const results = dealtStep(x, provider, 'relu', [[n]], 'mpc.relu', [], [shape, shape]);
  return { out: results.map((r) => r[0]!), mask: results.map((r) => r[1]!) };
}

commands['mpc.relu'] = {
  results: 2,
  needsSelf: true,
  async run(ctx, self, args) {
    const { shares, x, n, session, parties, me, first, dealer } = comparisonStep(ctx, self, args, 'relu');
    const params: WireValue[] = [[n]];
    const { components, derived } = await receiveCorrelated(ctx, dealer, session, 'relu', params, me, parties.length, [...msbDerivedShapes(n), [n]]);
    const [r, rho, a, b, aPrime] = components as [RingTensor, RingTensor, RingTensor, RingTensor, RingTensor];

    // Round 1: c = (-x) + r (the comparison is msb(-x) = [x > 0]) and eps = x - a'.
    const [opened, eps] = await Promise.all([
      openAmong(ctx, session, 'c', parties, x.neg().add(r)),
      openAmong(ctx, session, 'eps', parties, x.sub(aPrime)),
    ]);
    const [rBinary, c, rhoArith, aRho] = (await derived()) as [RingTensor, RingTensor, RingTensor, RingTensor];
    const eBits = await maskedMsb(ctx, session, parties, first, opened, { rho, a, b, rBinary, c });

    // x rho = eps rho + a' rho (eps public); then x · mask = x rho where e = 0, x - x rho where e = 1.
    const xRho = rhoArith.mul(eps).add_(aRho);
    const minus = x.sub(xRho);
    const out = new BigInt64Array(n);
    const O = u32(out), X = u32(xRho.data), D = u32(minus.data);
    for (let i = 0; i < n; i++) {
      const from = ((eBits[i >>> 5]! >>> (i & 31)) & 1) === 0 ? X : D;
      O[2 * i] = from[2 * i]!;
      O[2 * i + 1] = from[2 * i + 1]!;
    }
    return [RingTensor.from(shares.shape, out), RingTensor.from(shares.shape, bitsFromMasked(eBits, rhoArith.data, first))];
  },
};
