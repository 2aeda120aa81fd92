// Plain JavaScript mistakes get a typed error that says what was expected, instead of reaching
// the internals (`dest.post is not a function`, a bare RangeError) or being silently ignored.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const bob = new sy.VirtualWorker({ id: 'args-bob' });
const alice = new sy.VirtualWorker({ id: 'args-alice' });
const js = <T>(v: unknown) => v as T; // what an untyped caller may pass

describe('arguments from plain JavaScript', () => {
  test('sizes: negative, fractional and non-array shapes are ShapeErrors', () => {
    expect(() => sy.zeros([-1, 3])).toThrow(sy.ShapeError);
    expect(() => sy.zeros([-1, 3])).toThrow(/non-negative integer/);
    expect(() => sy.ones([2.5])).toThrow(sy.ShapeError);
    expect(() => sy.randn(js(5))).toThrow(/must be an array/);
    expect(() => sy.tensor([1, 2], { shape: [3] })).toThrow(/does not hold 2 values/);
  });

  test('a worker, not its name', () => {
    const x = sy.tensor([1, 2]);
    expect(() => x.send(js('bob'))).toThrow(sy.ValueError);
    expect(() => x.send(js('bob'))).toThrow(/pass the worker object/);
    expect(() => x.send(bob).move(js(undefined))).toThrow(/move\(\) must be a worker, got undefined/);
    expect(() => sy.tensor([1], { dtype: 'int64' }).share(bob, js('alice'))).toThrow(/share\(\): argument 2 must be a worker/);
  });

  test('misspelt options are refused with a suggestion', () => {
    expect(() => sy.tensor([0.5]).fixPrecision(js({ precision: 5 }))).toThrow(/no option 'precision' \(did you mean 'precisionFractional'\?\)/);
    const cryptoProvider = new sy.VirtualWorker({ id: 'args-cp' });
    expect(() => sy.tensor([0.5]).fixPrecision().share(bob, alice, js({ crypto_provider: cryptoProvider }))).toThrow(
      /did you mean 'cryptoProvider'/,
    );
    expect(() => sy.tensor([1], js({ requiresgrad: true }))).toThrow(/did you mean 'requiresGrad'/);
    expect(() => sy.tensor([1], js({ dtype: 'float64' }))).toThrow(/dtype must be 'float32' or 'int64'/);
    expect(() => sy.tensor([0.5]).fixPrecision({ base: 1 })).toThrow(/base must be an integer of at least 2/);
    expect(() => sy.rand([2], { low: 1, high: 0 })).toThrow(/high \(0\) must be above low \(1\)/);
  });

  test('well-formed calls still work', async () => {
    const x = sy.tensor([0.5, -1]).fixPrecision({ precisionFractional: 4 }).share(bob, alice);
    expect((await x.get()).floatPrecision().arraySync()).toEqual([0.5, -1]);
    expect(sy.rand([3], { low: -1, high: 1 }).shape).toEqual([3]);
  });
});
