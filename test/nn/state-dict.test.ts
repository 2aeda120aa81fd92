// Module.stateDict / loadStateDict: PyTorch's key names and order, exact round trips, buffers
// included, and clear errors for missing or unexpected keys, shapes and misplaced values.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { values } from './reference.js';

class Net extends sy.nn.Module {
  conv1 = new sy.nn.Conv2d(1, 2, 3);
  bn = new sy.nn.BatchNorm2d(2);
  head = new sy.nn.Sequential(new sy.nn.Flatten(), new sy.nn.Linear(2 * 4 * 4, 3));
  forward(x: sy.Tensor): sy.Tensor {
    return this.head.forward(sy.nn.functional.relu(this.bn.forward(this.conv1.forward(x))));
  }
}

describe('stateDict', () => {
  test('names every parameter and buffer in PyTorch spelling and order', () => {
    expect(Object.keys(new Net().stateDict())).toEqual([
      'conv1.weight',
      'conv1.bias',
      'bn.weight',
      'bn.bias',
      'bn.running_mean',
      'bn.running_var',
      'bn.num_batches_tracked',
      'head.1.weight',
      'head.1.bias',
    ]);
    const m = new Net();
    expect(m.parameters().length).toBe(6); // buffers are not parameters
    expect(m.buffers().length).toBe(2);
    expect(m.stateDict()['conv1.weight']!.requiresGrad).toBe(false);
  });

  test('a twin loaded from the state dict computes the same, and trains on independently', () => {
    sy.manualSeed(1);
    const a = new Net();
    const x = sy.randn([4, 1, 6, 6]);
    a.forward(x); // moves the running statistics and the batch counter
    sy.manualSeed(2);
    const b = new Net();
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.bn.numBatchesTracked).toBe(1);
    a.eval();
    b.eval();
    expect(values(b.forward(x))).toEqual(values(a.forward(x)));
    const before = values(b.conv1.weight);
    const opt = new sy.optim.SGD(a.parameters(), { lr: 0.5 });
    a.train();
    a.forward(x).sum().backward();
    opt.step();
    expect(values(b.conv1.weight)).toEqual(before);
    expect(values(a.conv1.weight)).not.toEqual(before);
  });

  test('missing, unexpected and misshapen entries are refused with every key named', () => {
    const m = new Net();
    const dict = m.stateDict();
    const { ['bn.running_var']: _gone, ...missing } = dict;
    expect(() => m.loadStateDict(missing)).toThrow(/missing key\(s\): "bn.running_var"/);
    expect(() => m.loadStateDict({ ...dict, 'fc9.weight': sy.zeros([1]) })).toThrow(/unexpected key\(s\): "fc9.weight".*strict: false/);
    expect(m.loadStateDict({ ...missing, extra: sy.zeros([1]) }, { strict: false })).toEqual({ missingKeys: ['bn.running_var'], unexpectedKeys: ['extra'] });
    expect(() => m.loadStateDict({ ...dict, 'conv1.bias': sy.zeros([3]) })).toThrow(/"conv1.bias" has shape \[3\] in the state dict but \[2\] in the model/);
    expect(() => m.loadStateDict({ ...dict, 'conv1.bias': [0, 0] as unknown as sy.Tensor })).toThrow(/must be a Tensor/);
    expect(() => m.loadStateDict(null as unknown as Record<string, sy.Tensor>)).toThrow(/name -> Tensor/);
  });
});
