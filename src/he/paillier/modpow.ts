/**
 * Modular exponentiation for Paillier: the WebAssembly Montgomery kernel where it applies (odd
 * moduli up to 8192 bits, exponents up to 16384 bits, large enough to repay the call), BigInt
 * otherwise. Both give the same numbers; {@link modPowBigint} is the reference.
 *
 * {@link FixedModulus} keeps the Montgomery constants of one modulus (R² mod N, the words of N),
 * for keys that exponentiate modulo the same p², q² or n² many times; {@link modPow} keeps a few
 * recently used moduli for callers that pass plain numbers.
 */
import { modInv } from './modular.js';
import { modPowBigint } from './modpow-bigint.js';
import { activeKernel } from './wasm-modpow.js';
import type { ModPowKernel, MontgomeryConstants } from './wasm-modpow.js';

export { modPowBigint, windowBits } from './modpow-bigint.js';
export { modPowEngine } from './wasm-modpow.js';
export type { ModPowEngine, ModPowEngineInfo } from './wasm-modpow.js';

// Below these sizes a BigInt exponentiation is as fast as crossing into wasm (measured in
// bench/paillier.bench.ts: a few squarings of small numbers cost less than the conversions).
const MIN_MODULUS_BITS = 64n;
const MIN_EXPONENT = 1n << 16n;

/**
 * base^exp mod one fixed modulus, with its Montgomery constants computed once.
 *
 * @example
 * ```ts
 * const p2 = new FixedModulus(p * p);
 * const x = p2.pow(c, p - 1n); // c^(p-1) mod p²
 * ```
 */
export class FixedModulus {
  private readonly kernel: ModPowKernel | undefined;
  private readonly constants: MontgomeryConstants | undefined;

  /** Throws a RangeError unless the modulus is positive. */
  constructor(readonly modulus: bigint) {
    if (typeof modulus !== 'bigint' || modulus <= 0n) throw new RangeError('FixedModulus: the modulus must be a positive bigint');
    const kernel = (modulus & 1n) === 1n && modulus >> MIN_MODULUS_BITS > 0n ? activeKernel() : undefined;
    const usable = kernel !== undefined && modulus >> BigInt(kernel.maxModulusBits) === 0n;
    this.kernel = usable ? kernel : undefined;
    this.constants = usable ? kernel.constants(modulus) : undefined;
  }

  /** True when exponentiations run on the wasm kernel (an odd modulus within its size). */
  get usesWasm(): boolean {
    return this.kernel !== undefined;
  }

  /** base^exp mod the modulus; a negative exponent inverts the base (it must be a unit). */
  pow(base: bigint, exp: bigint): bigint {
    const mod = this.modulus;
    if (this.kernel === undefined || exp < MIN_EXPONENT && exp > -MIN_EXPONENT) return modPowBigint(base, exp, mod);
    base %= mod;
    if (base < 0n) base += mod;
    if (exp < 0n) {
      base = modInv(base, mod);
      exp = -exp;
    }
    if (base <= 1n) return base;
    if (exp >> BigInt(this.kernel.maxExponentBits) > 0n) return modPowBigint(base, exp, mod);
    return this.kernel.pow(this.constants!, base, exp);
  }
}

const recent = new Map<bigint, FixedModulus>();
const RECENT_MAX = 8;

function fixedModulus(mod: bigint): FixedModulus {
  let fixed = recent.get(mod);
  if (fixed === undefined) {
    fixed = new FixedModulus(mod);
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  } else {
    recent.delete(mod);
  }
  recent.set(mod, fixed);
  return fixed;
}

/**
 * base^exp mod mod. A negative exponent inverts the base first (it must be a unit mod `mod`).
 * Odd moduli of 64 to 8192 bits with exponents of at least 2^16 run on the WebAssembly kernel
 * (see {@link modPowEngine}); everything else on BigInt, with the same result.
 *
 * @example
 * ```ts
 * modPow(4n, 13n, 497n); // 445n
 * ```
 */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod <= 0n) throw new RangeError('modPow: the modulus must be positive');
  if ((mod & 1n) === 0n || mod >> MIN_MODULUS_BITS === 0n || (exp < MIN_EXPONENT && exp > -MIN_EXPONENT)) return modPowBigint(base, exp, mod);
  return fixedModulus(mod).pow(base, exp);
}
