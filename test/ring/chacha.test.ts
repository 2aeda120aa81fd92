// The ChaCha20 keystream kernels behind the seeded PRG (src/ring/chacha.ts): RFC 8439 vectors,
// agreement with node:crypto's 'chacha20' (what Node parties use) across the 64-bit block counter,
// and the self-check that guards kernel selection.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chachaKernel, jsChaCha, loadChaChaKernel, selfCheck, type ChaChaKernel } from '../../src/ring/chacha.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const kernels = (): ChaChaKernel[] => [jsChaCha, loadChaChaKernel('simd'), loadChaChaKernel('scalar')];

// RFC 8439 appendix A.1, test vectors 1-4 (zero nonce): key, block counter, keystream block.
const RFC_A1: Array<[string, number, string]> = [
  ['00'.repeat(32), 0, '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586'],
  ['00'.repeat(32), 1, '9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f'],
  ['00'.repeat(31) + '01', 1, '3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0'],
  ['00ff' + '00'.repeat(30), 2, '72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096'],
];

/** node:crypto's keystream from `block`: IV = the 64-bit counter little-endian, then zeros. */
function nodeKeystream(key: Uint8Array, block: number, n: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(block % 2 ** 32, 0);
  iv.writeUInt32LE(Math.floor(block / 2 ** 32), 4);
  return createCipheriv('chacha20', key, iv).update(Buffer.alloc(n));
}

describe('ChaCha20 kernels', () => {
  it('match the RFC 8439 A.1 vectors (js, wasm SIMD, wasm scalar, node:crypto)', () => {
    for (const [k, block, want] of RFC_A1) {
      const key = Buffer.from(k, 'hex');
      expect(hex(nodeKeystream(key, block, 64))).toBe(want);
      for (const kernel of kernels()) {
        const out = new Uint8Array(64);
        kernel.fill(key, block, out);
        expect(hex(out), `${kernel.engine} block ${block}`).toBe(want);
      }
    }
  });

  it('give node:crypto bytes for the same key and counter, across a wrapping low counter word and lengths off the SIMD width', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 0xff);
    const cases: Array<[number, number]> = [[0, 1], [0, 64 * 3 + 17], [9, 64 * 4096 + 64 * 5 + 1], [2 ** 32 - 2, 64 * 7], [3 * 2 ** 32 - 1, 4000]];
    for (const [block, n] of cases) {
      const want = hex(nodeKeystream(key, block, n));
      for (const kernel of kernels()) {
        const out = new Uint8Array(n);
        kernel.fill(key, block, out);
        expect(hex(out), `${kernel.engine} from block ${block}, ${n} bytes`).toBe(want);
      }
    }
  });

  it('pass the self-check, which catches a kernel that is wrong', () => {
    for (const kernel of kernels()) expect(selfCheck(kernel), kernel.engine).toBeUndefined();
    const broken: ChaChaKernel = {
      engine: 'simd',
      fill(key, block, out) {
        jsChaCha.fill(key, block, out);
        if (block > 2 ** 32) out[out.length - 1]! ^= 1; // wrong only after the counter wraps
      },
    };
    expect(selfCheck(broken)).toMatch(/differs/);
  });

  it('give the same bytes after warm() (the tier-up run sy.ready() does in pages), short and long fills alike', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 11) & 0xff);
    for (const engine of ['simd', 'scalar'] as const) {
      const k = loadChaChaKernel(engine);
      const before = new Uint8Array(300);
      k.fill(key, 9, before);
      k.warm(3);
      for (const [block, n] of [[9, 300], [2 ** 32 - 1, 64 * 4100 + 5]] as const) {
        const got = new Uint8Array(n);
        k.fill(key, block, got);
        expect(hex(got), `${engine} ${block}`).toBe(hex(nodeKeystream(key, block, n)));
      }
      expect(hex(before)).toBe(hex(nodeKeystream(key, 9, 300)));
    }
  });

  it('selects the SIMD build in Node', () => {
    expect(chachaKernel().engine).toBe('simd');
  });
});
