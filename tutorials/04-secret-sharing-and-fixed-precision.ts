/**
 * Lesson 4: Secret Sharing + Fixed Precision in syft-ts, step by step as the lesson does it in
 * PySyft: share integers, look at what Bob holds, compute on the shares, then do the same with
 * fixed-precision decimals.
 *
 *     npx tsx tutorials/04-secret-sharing-and-fixed-precision.ts [--precision 3]
 *
 * `--help` lists the flags.
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

/** The command-line flags (`--help` prints them). */
export const flags = {
  precision: { type: 'number', default: 3, integer: true, min: 0, max: 8, help: 'decimal digits kept by fixPrec()' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export async function main(log: (s: string) => void = console.log, partial: Partial<sy.utils.Flags<typeof flags>> = {}) {
  const fp = { precisionFractional: partial.precision ?? flags.precision.default };
  await sy.ready();
  const bob = new sy.VirtualWorker({ id: 'bob' }).clearObjects();
  const alice = new sy.VirtualWorker({ id: 'alice' }).clearObjects();
  const secureWorker = new sy.VirtualWorker({ id: 'secure_worker' }).clearObjects();

  // Secret sharing with .share()
  const x = sy.tensor([1, 2, 3, 4, 5], { dtype: 'int64' }).share(bob, alice, secureWorker);
  log(x.toString());
  log(`bob.objects: ${formatObjects(bob)} (one random share: alone it says nothing about x)`);

  // Computing on shares: each worker adds its own shares.
  const y = x.add(x);
  log(`bob.objects after y = x + x: ${formatObjects(bob)}`);
  log(y.toString());
  const yValue = await y.get();
  log(`y.get() = ${yValue.toString()}`);
  log(`bob.objects after get(): ${formatObjects(bob)}`);
  const objectsAfterGet = bob.objects.size;

  // Fixed precision
  let f = sy.tensor([0.1, 0.2, 0.3]);
  log(f.toString());
  f = f.fixPrec(fp);
  log(f.toString());
  log(`x.child is a ${f.child.layerName}, x.child.child is ${f.child.child!.toString()}`);
  const doubled = f.add(f);
  log(`${doubled.toString()} -> ${doubled.floatPrec().toString()}`);

  // Shared fixed precision: both at once.
  const s = sy.tensor([0.1, 0.2, 0.3]).fixPrec(fp).share(bob, alice, secureWorker);
  log(s.toString());
  const sum = (await s.add(s).get()).floatPrec();
  log(`(x + x).get().floatPrec() = ${sum.toString()}`);
  return { y: yValue.arraySync() as bigint[], objectsAfterGet, sum: sum.arraySync() as number[] };
}

function formatObjects(w: sy.VirtualWorker): string {
  return `{${[...w.objects].map(([id, t]) => `${id}: ${String(t)}`).join(', ')}}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(flags, 'npx tsx tutorials/04-secret-sharing-and-fixed-precision.ts', 'Secret sharing and fixed precision together, showing what Bob holds at each step.');
  await main(console.log, o);
}
