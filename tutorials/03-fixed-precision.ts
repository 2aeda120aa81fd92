/**
 * Lesson 3: Intro to Fixed Precision Encoding.
 *
 * Secret sharing works on integers; network weights are decimals. Fixed precision stores a
 * decimal v as the integer round(v · BASE^PRECISION), so decimals can be shared too.
 *
 *     npx tsx tutorials/03-fixed-precision.ts [--a 5.5] [--b 2.3] [--precision 3]
 *
 * `--help` lists the flags.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';
import { Q, add, decrypt, encrypt } from './02-additive-secret-sharing.js';

const BASE = 10;
const PRECISION = 4;

/** v -> round(v · BASE^PRECISION) mod Q (negative numbers wrap to the top of the range). */
export function encode(v: number): bigint {
  const scaled = BigInt(Math.round(v * BASE ** PRECISION));
  return ((scaled % Q) + Q) % Q;
}

/** The inverse: values above Q/2 stand for negative numbers. */
export function decode(x: bigint): number {
  const signed = x <= Q / 2n ? x : x - Q;
  return Number(signed) / BASE ** PRECISION;
}

/** The command-line flags (`--help` prints them). */
export const flags = {
  a: { type: 'number', default: 5.5, min: -1e6, max: 1e6, help: 'first decimal added on encoded shares' },
  b: { type: 'number', default: 2.3, min: -1e6, max: 1e6, help: 'second decimal' },
  precision: { type: 'number', default: 3, integer: true, min: 0, max: 8, help: 'decimal digits syft-ts keeps in fixPrecision()' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof flags>;

export async function main(
  log: (s: string) => void = console.log,
  partial: Partial<Options> = {},
): Promise<{ sum: number; product: number[] }> {
  const o: Options = { a: flags.a.default, b: flags.b.default, precision: flags.precision.default, ...partial };
  log(`encode(0.5) = ${encode(0.5)}`);
  log(`decode(5000 + 5000) = ${decode(5000n + 5000n)}`);
  log(`decode(encode(-1.25)) = ${decode(encode(-1.25))}`);

  // The lesson's last cell, which raised a NameError there: add two encrypted decimals.
  const x = encrypt(encode(o.a));
  const y = encrypt(encode(o.b));
  const sum = decode(decrypt(add(x, y)));
  log(`${o.a} + ${o.b} on shares = ${sum} (encoded with ${PRECISION} digits; each of 3 parties held one share of each)`);

  // syft-ts: fixPrecision() does the encoding (base 10, 3 digits by default).
  await sy.ready();
  const t = sy.tensor([0.1, 0.2, 0.3]).fixPrecision({ precisionFractional: o.precision });
  log(t.toString()); // (Wrapper)>FixedPrecisionTensor>tensor([100, 200, 300])
  const product = t.mul(t);
  log(`x · x = ${product.toString()} -> ${product.floatPrecision().toString()}`);
  return { sum, product: product.floatPrecision().arraySync() as number[] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(flags, 'npx tsx tutorials/03-fixed-precision.ts', 'Fixed-precision encoding of decimals, by hand and with fixPrecision().');
  await main(console.log, o);
}
