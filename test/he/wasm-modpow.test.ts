// The WebAssembly modPow kernel against the BigInt reference: both builds directly (random and edge
// operands, 64 to 8192-bit moduli), the dispatching modPow / FixedModulus, the self-check that
// keeps a wrong kernel out, and Paillier's CRT maths on the kernel vs on BigInt.
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../src/errors.js';
import { crtDecrypt, crtParams, crtRandomNthResidue } from '../../src/he/paillier/crt.js';
import { FixedModulus, modPow, modPowBigint, modPowEngine } from '../../src/he/paillier/modpow.js';
import { activeKernel, loadModPowKernel, reselectModPowEngine, selfCheck } from '../../src/he/paillier/wasm-modpow.js';
import type { ModPowKernel } from '../../src/he/paillier/wasm-modpow.js';
import { TestRandom } from './helpers.js';

const oddModulus = (rnd: TestRandom, bits: number): bigint => rnd.bits(bits) | 1n | (1n << BigInt(bits - 1));

describe('modPow kernel (WebAssembly)', () => {
  it('runs on the SIMD build in Node, after its self-check', () => {
    const info = modPowEngine();
    expect(info.engine).toBe('simd');
    expect(info.reason).toBe('fastest engine available');
    expect(info.maxModulusBits).toBe(8192);
    expect(activeKernel()?.engine).toBe('simd');
  });

  describe.each(['simd', 'scalar'] as const)('%s build', (engine) => {
    const kernel: ModPowKernel = loadModPowKernel(engine);
    const pow = (base: bigint, exp: bigint, mod: bigint): bigint => kernel.pow(kernel.constants(mod), base, exp);

    it('matches BigInt on random operands, 64 to 8192-bit moduli, short to full exponents', () => {
      const rnd = new TestRandom(engine === 'simd' ? 101 : 202);
      const sizes = [64, 65, 100, 127, 128, 129, 255, 256, 511, 512, 1023, 1024, 1025, 1500, 2047, 2048, 2049, 3072, 4096, 8192];
      for (const modBits of sizes) {
        const mod = oddModulus(rnd, modBits);
        // Exponents of 1, 2, 17 (window 2), 100, 500 (window 5) and 1024+ bits (window 6/7).
        for (const expBits of [1, 2, 17, 100, 500, Math.min(modBits, 1100)]) {
          if (modBits > 2100 && expBits > 200) continue; // keeps the BigInt side fast; 4096 is below
          const base = rnd.bits(modBits) % mod;
          const exp = rnd.bits(expBits) | (1n << BigInt(expBits - 1));
          expect(pow(base, exp, mod), `${modBits}-bit modulus, ${expBits}-bit exponent`).toBe(modPowBigint(base, exp, mod));
        }
      }
      // A Paillier-shaped case at 4096 bits (n² of a 2048-bit key): 2048-bit exponent.
      const mod = oddModulus(rnd, 4096);
      const base = rnd.bits(4095);
      const exp = rnd.bits(2048) | (1n << 2047n);
      expect(pow(base, exp, mod)).toBe(modPowBigint(base, exp, mod));
    });

    it('edge operands: base 0, 1, 2, N-1, N-2, all-ones moduli, tiny moduli, exponent 1', () => {
      const rnd = new TestRandom(303);
      const moduli = [3n, 5n, 7n, 2n ** 13n - 1n, 2n ** 64n - 59n, 2n ** 127n - 1n, 2n ** 521n - 1n, 2n ** 2048n - 1n, 2n ** 2047n + 1n, 2n ** 4096n - 1n, 2n ** 8192n - 1n];
      for (const mod of moduli) {
        for (const base of [0n, 1n, 2n, mod - 1n, mod - 2n, rnd.bits(mod.toString(2).length) % mod]) {
          if (base < 0n) continue;
          for (const exp of [1n, 2n, 3n, 65537n, mod - 1n]) {
            if (exp <= 0n || (mod > 2n ** 2100n && exp > 65537n)) continue;
            expect(pow(base, exp, mod), `${base} ^ ${exp} mod 2^${mod.toString(2).length}`).toBe(modPowBigint(base, exp, mod));
          }
        }
      }
    });

    it('exponents with long runs of zeros and ones, and of every window length', () => {
      const rnd = new TestRandom(404);
      const mod = oddModulus(rnd, 2048);
      const base = rnd.bits(2047);
      for (const exp of [1n << 1000n, (1n << 1000n) - 1n, (1n << 999n) + 1n, 0xaaaan << 900n, (1n << 16383n) | 1n]) {
        expect(pow(base, exp, mod)).toBe(modPowBigint(base, exp, mod));
      }
    });

    it('refuses an even modulus (Montgomery needs an odd one)', () => {
      expect(() => pow(3n, 5n, 2n ** 100n)).toThrow(RangeError);
    });

    it('passes its own self-check', () => {
      expect(selfCheck(kernel)).toBeUndefined();
    });
  });

  it('the self-check rejects a kernel that is wrong even once', () => {
    const real = loadModPowKernel('simd');
    let calls = 0;
    // A kernel that is right except for its third answer.
    const broken = Object.create(real) as ModPowKernel;
    broken.pow = (k, base, exp) => {
      const r = real.pow(k, base, exp);
      return ++calls === 3 ? r ^ 1n : r;
    };
    expect(selfCheck(broken)).toMatch(/-bit modulus/);
  });
});

describe('modPow (dispatching) and FixedModulus', () => {
  it('agree with BigInt on the cases the kernel does not take: even moduli, small moduli, short exponents', () => {
    const rnd = new TestRandom(505);
    const even = rnd.bits(1024) << 1n;
    const base = rnd.bits(1000);
    const e = rnd.bits(500);
    expect(modPow(base, e, even)).toBe(modPowBigint(base, e, even));
    expect(new FixedModulus(even).usesWasm).toBe(false);
    expect(new FixedModulus(even).pow(base, e)).toBe(modPowBigint(base, e, even));
    expect(new FixedModulus((1n << 63n) + 1n).usesWasm).toBe(false); // below 64 bits: BigInt
    expect(new FixedModulus((1n << 64n) + 1n).usesWasm).toBe(true);
    expect(new FixedModulus((1n << 8192n) + 1n).usesWasm).toBe(false); // 8193 bits: above the kernel
    const big = (1n << 8192n) + 1n;
    expect(modPow(base, 12345678n, big)).toBe(modPowBigint(base, 12345678n, big));
  });

  it('exponent 0 and 1, base 0, base ≥ modulus, negative base, negative exponent', () => {
    const rnd = new TestRandom(606);
    const mod = oddModulus(rnd, 2048);
    const fixed = new FixedModulus(mod);
    expect(fixed.usesWasm).toBe(true);
    const x = rnd.bits(2047);
    const big = 1n << 20n;
    for (const pow of [(b: bigint, e: bigint) => modPow(b, e, mod), (b: bigint, e: bigint) => fixed.pow(b, e)]) {
      expect(pow(x, 0n)).toBe(1n);
      expect(pow(x, 1n)).toBe(x);
      expect(pow(0n, big + 1n)).toBe(0n);
      expect(pow(1n, big + 1n)).toBe(1n);
      expect(pow(x + 5n * mod, big + 3n)).toBe(modPowBigint(x, big + 3n, mod));
      expect(pow(-x, big + 3n)).toBe(modPowBigint(mod - x, big + 3n, mod));
      const inv = pow(x, -(big + 3n));
      expect((inv * pow(x, big + 3n)) % mod).toBe(1n);
      expect(pow(mod, big)).toBe(0n);
    }
    expect(() => new FixedModulus(0n)).toThrow(RangeError);
    expect(() => modPow(2n, 3n, -5n)).toThrow(RangeError);
  });
});

describe('SYFT_PAILLIER_MODPOW', () => {
  it('forces the scalar build or BigInt, with the same results', () => {
    const rnd = new TestRandom(808);
    const mod = oddModulus(rnd, 2048);
    const base = rnd.bits(2047);
    const exp = rnd.bits(1024);
    const want = modPowBigint(base, exp, mod);
    try {
      process.env['SYFT_PAILLIER_MODPOW'] = 'scalar';
      expect(reselectModPowEngine()).toMatchObject({ engine: 'scalar', reason: 'forced by SYFT_PAILLIER_MODPOW=scalar' });
      expect(new FixedModulus(mod).pow(base, exp)).toBe(want);
      process.env['SYFT_PAILLIER_MODPOW'] = 'bigint';
      expect(reselectModPowEngine()).toMatchObject({ engine: 'bigint', maxModulusBits: 0 });
      const fixed = new FixedModulus(mod);
      expect(fixed.usesWasm).toBe(false);
      expect(fixed.pow(base, exp)).toBe(want);
      process.env['SYFT_PAILLIER_MODPOW'] = 'gmp';
      expect(() => reselectModPowEngine()).toThrow(ValueError);
    } finally {
      delete process.env['SYFT_PAILLIER_MODPOW'];
      expect(reselectModPowEngine().engine).toBe('simd');
    }
  });
});

describe('CRT maths on the kernel', () => {
  // Two 521-bit Mersenne-free primes would need a prime search; fixed primes keep this fast.
  const p = 2n ** 521n - 1n; // prime (Mersenne)
  const q = 2n ** 607n - 1n; // prime (Mersenne)

  it('decrypts and makes r^n factors exactly as the BigInt path does', () => {
    const fast = crtParams(p, q);
    const slow = crtParams(p, q, 'bigint');
    expect(fast.hp).toBe(slow.hp);
    // h_p from its definition, L_p(g^(p-1) mod p²)^-1 mod p.
    const g = fast.n + 1n;
    const lp = (modPowBigint(g, p - 1n, fast.p2) - 1n) / p;
    expect((lp * fast.hp) % p).toBe(1n);
    const rnd = new TestRandom(707);
    for (let i = 0; i < 6; i++) {
      const m = rnd.bits(1100) % fast.n;
      const rn = crtRandomNthResidue(fast);
      // An n-th residue: raised to φ(n) it gives 1 mod n².
      expect(modPow(rn, (p - 1n) * (q - 1n), fast.n2)).toBe(1n);
      const c = (rn + fast.n * ((m * (rn % fast.n)) % fast.n)) % fast.n2;
      expect(crtDecrypt(fast, c)).toBe(m);
      expect(crtDecrypt(slow, c)).toBe(m);
    }
  });
});
