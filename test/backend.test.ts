import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';
import * as sy from '../src/index.js';

const root = join(import.meta.dirname, '..');

afterAll(async () => {
  await sy.ready({ backend: 'wasm' });
});

test('ready() picks wasm by default and can run on cpu; results agree', async () => {
  const a = sy.tensor([[1, 2], [3, 4]]);
  const b = sy.tensor([[0.5], [-1]]);
  expect((await sy.ready()).backend).toBe('wasm');
  const onWasm = a.matmul(b).relu().arraySync();
  const info = await sy.ready({ backend: 'cpu' });
  expect(info.backend).toBe('cpu');
  expect(tf.getBackend()).toBe('cpu');
  expect(a.matmul(b).relu().arraySync()).toEqual(onWasm);
  expect(['simd', 'scalar', 'js']).toContain(info.ring);
});

// A fresh process reads SYFT_BACKEND at start-up.
function startWith(backend: string): string {
  const script = "import('./src/index.ts').then(async (sy) => console.log(JSON.stringify(await sy.ready()))).catch((e) => console.log('ERR ' + e.message))";
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    env: { ...process.env, SYFT_BACKEND: backend },
    encoding: 'utf8',
  }).trim();
}

test('SYFT_BACKEND=cpu forces the cpu backend; a wrong name is refused clearly', () => {
  expect(JSON.parse(startWith('cpu').split('\n').at(-1)!).backend).toBe('cpu');
  expect(startWith('gpu')).toMatch(/ERR SYFT_BACKEND must be 'wasm' or 'cpu', got 'gpu'/);
});
