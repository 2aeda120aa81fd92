/**
 * Lesson 3: Intro to Fixed Precision Encoding.
 *
 * Secret sharing works on integers; network weights are decimals. Fixed precision stores a
 * decimal v as the integer round(v · BASE^PRECISION), so decimals can be shared too.
 *
 *     npx tsx tutorials/03-fixed-precision.ts
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

export async function main(log: (s: string) => void = console.log): Promise<{ sum: number; product: number[] }> {
  log(`encode(0.5) = ${encode(0.5)}`);
  log(`decode(5000 + 5000) = ${decode(5000n + 5000n)}`);
  log(`decode(encode(-1.25)) = ${decode(encode(-1.25))}`);

  // The lesson's last cell, which raised a NameError there: add two encrypted decimals.
  const x = encrypt(encode(5.5));
  const y = encrypt(encode(2.3));
  const sum = decode(decrypt(add(x, y)));
  log(`5.5 + 2.3 on shares = ${sum}`);

  // syft-ts: fixPrecision() does the encoding (base 10, 3 digits by default).
  await sy.ready();
  const t = sy.tensor([0.1, 0.2, 0.3]).fixPrecision();
  log(t.toString()); // (Wrapper)>FixedPrecisionTensor>tensor([100, 200, 300])
  const product = t.mul(t);
  log(`x · x = ${product.toString()} -> ${product.floatPrecision().toString()}`);
  return { sum, product: product.floatPrecision().arraySync() as number[] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
