/**
 * Lesson 2: Intro to Additive Secret Sharing.
 *
 * First by hand, with big integers modulo a large Q, as the lesson does; then with syft-ts,
 * whose shares live in Z_2^64 on workers.
 *
 *     npx tsx tutorials/02-additive-secret-sharing.ts [--a 5] [--b 10] [--shares 3]
 *
 * `--help` lists the flags. What each party holds is printed as it happens: a share each, which
 * alone says nothing about the secret.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

/** A uniform random integer in [0, q), from the OS CSPRNG (rejection sampling: no bias). */
export function randomBelow(q: bigint): bigint {
  const bytes = Math.ceil(q.toString(2).length / 8) + 8;
  const buf = new Uint8Array(bytes);
  const range = 1n << BigInt(bytes * 8);
  const limit = range - (range % q);
  for (;;) {
    crypto.getRandomValues(buf);
    let v = 0n;
    for (const b of buf) v = (v << 8n) | BigInt(b);
    if (v < limit) return v % q;
  }
}

export const Q = 231515164481911616167n;

/** Splits x into n shares that add up to x modulo Q. */
export function encrypt(x: bigint, nShares = 3): bigint[] {
  const shares: bigint[] = [];
  for (let i = 0; i < nShares - 1; i++) shares.push(randomBelow(Q));
  const last = (((x - shares.reduce((a, b) => a + b, 0n)) % Q) + Q) % Q;
  return [...shares, last];
}

export function decrypt(shares: readonly bigint[]): bigint {
  return shares.reduce((a, b) => a + b, 0n) % Q;
}

export function add(a: readonly bigint[], b: readonly bigint[]): bigint[] {
  if (a.length !== b.length) throw new Error('both values must have the same number of shares');
  return a.map((ai, i) => (ai + b[i]!) % Q);
}

/** The command-line flags (`--help` prints them). */
export const flags = {
  a: { type: 'number', default: 5, integer: true, min: -1e9, max: 1e9, help: 'first secret of the project cells (encrypt, add, decrypt)' },
  b: { type: 'number', default: 10, integer: true, min: -1e9, max: 1e9, help: 'second secret, added to the first' },
  shares: { type: 'number', default: 3, integer: true, min: 2, max: 16, help: 'number of shares each secret is split into' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof flags>;

export async function main(
  log: (s: string) => void = console.log,
  partial: Partial<Options> = {},
): Promise<{ byHand: bigint; library: number[] }> {
  const o: Options = { a: flags.a.default, b: flags.b.default, shares: flags.shares.default, ...partial };
  // Bob and Alice share x = 5 as 2 + 3.
  let bobXShare = 2n;
  let aliceXShare = 3n;
  log(`decrypted x = ${bobXShare + aliceXShare}`);

  // Multiplying each share by 2 multiplies the hidden value.
  bobXShare *= 2n;
  aliceXShare *= 2n;
  log(`after doubling the shares: ${bobXShare + aliceXShare}`);

  // Adding shares adds the hidden values: 5 + 7.
  const [bobY, aliceY] = [5n, 2n];
  log(`encrypted 5 + 7 = ${2n + bobY + (3n + aliceY)}`);

  // Positive shares leak (each is below the secret); modulo a large Q they do not.
  const q = 23740629843760239486723n;
  const x = 5n;
  const bobShare = 23552870267n; // a random number
  const aliceShare = q - bobShare + x;
  log(`alice's share: ${aliceShare}; decrypted: ${(bobShare + aliceShare) % q}`);

  // The project: encrypt, decrypt and add for any number of shares.
  const [A, B] = [BigInt(o.a), BigInt(o.b)];
  log(`encrypt(${o.a}, ${o.shares}) = (${encrypt(A, o.shares).join(', ')})  <- each party holds one of these`);
  const hand = decrypt(add(encrypt(A, o.shares), encrypt(B, o.shares)));
  const sum = hand > Q / 2n ? hand - Q : hand; // values above Q/2 stand for negative numbers
  log(`decrypt(add(encrypt(${o.a}), encrypt(${o.b}))) = ${sum}`);

  // The same with syft-ts: integer shares in Z_2^64, one per worker.
  await sy.ready();
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const alice = new sy.VirtualWorker({ id: 'alice' });
  const secureWorker = new sy.VirtualWorker({ id: 'secure_worker' });
  const a = sy.tensor([o.a], { dtype: 'int64' }).share(bob, alice, secureWorker);
  const b = sy.tensor([o.b], { dtype: 'int64' }).share(bob, alice, secureWorker);
  log(`bob holds ${[...bob.objects.values()].map(String).join(' and ')} (one uniformly random share of each secret)`);
  const c = await a.add(b).get();
  log(`syft-ts: ${o.a} + ${o.b} = ${c.toString()} (only the sum was reconstructed, by us)`);
  return { byHand: sum, library: (c.arraySync() as number[]).map(Number) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(flags, 'npx tsx tutorials/02-additive-secret-sharing.ts', 'Additive secret sharing by hand (modulo Q), then with syft-ts in Z_2^64.');
  await main(console.log, o);
}
