// sign and abs: the worked example of CONTRIBUTING.md ("adding a unary op"). One entry in the op
// table, one ring kernel and one method on Tensor make them work on every kind of tensor: float
// (tfjs's kernel), integer, remote (sent by name and checked by the worker's allow-list),
// fixed-precision and secret-shared (from the table's composite, made of comparisons), and under
// autograd (abs's gradient from the table; sign passes none).
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { parties } from '../mpc/helpers.js';

const values = [-2.5, -1, 0, 0.75, 3];
const signs = [-1, -1, 0, 1, 1];
const abs = values.map(Math.abs);

describe('sign and abs on every layer', () => {
  test('float, integer and remote tensors', async () => {
    expect(sy.tensor(values).sign().arraySync()).toEqual(signs);
    expect(sy.tensor([-7, 0, 9], { dtype: 'int64' }).sign().arraySync()).toEqual([-1n, 0n, 1n]);
    expect(sy.tensor([-7, 0, 9], { dtype: 'int64' }).abs().arraySync()).toEqual([7n, 0n, 9n]);
    const bob = new sy.VirtualWorker({ id: 'sign-bob' });
    const p = sy.tensor(values).send(bob);
    expect((await p.sign().get()).arraySync()).toEqual(signs);
    expect((await p.abs().get()).arraySync()).toEqual(abs);
  });

  test('fixed precision and secret-shared, 2 and 3 parties', async () => {
    for (const n of [2, 3]) {
      const { workers, cryptoProvider } = parties(n, `sign-${n}`);
      const x = sy.tensor(values).fixPrecision().share(...workers, { cryptoProvider });
      expect((await x.sign().get()).floatPrecision().arraySync()).toEqual(signs);
      expect((await x.abs().get()).floatPrecision().arraySync()).toEqual(abs);
    }
    expect(sy.tensor(values).fixPrecision().sign().floatPrecision().arraySync()).toEqual(signs);
  });

  test('autograd: d|x|/dx = sign(x); sign records no gradient', () => {
    const x = sy.tensor([-2, 0.5, 3], { requiresGrad: true });
    x.abs().sum().backward();
    expect(x.grad!.arraySync()).toEqual([-1, 1, 1]);
    expect(x.sign().requiresGrad).toBe(false);
  });
});
