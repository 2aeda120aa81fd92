/**
 * Process-wide settings: `sy.config({ checkOverflow: true })` turns on the secure overflow check
 * of shared fixed-precision products whose magnitudes are not known (see src/tensors/overflow.ts),
 * at the cost of two secure comparisons per element of each operand.
 */
import { ValueError } from './errors.js';

export interface Config {
  /** Check shared products without a known bound with secure comparisons (default false). */
  checkOverflow: boolean;
}

const settings: Config = { checkOverflow: false };

/**
 * Reads, and with an argument changes, the settings. Returns them as they are now.
 *
 * @example
 * ```ts
 * sy.config({ checkOverflow: true });   // shared products raise at get() instead of wrapping
 * ```
 */
export function config(changes?: Partial<Config>): Readonly<Config> {
  if (changes !== undefined) {
    if (changes === null || typeof changes !== 'object') throw new ValueError('config() takes an object like { checkOverflow: true }');
    for (const [k, v] of Object.entries(changes)) {
      if (!(k in settings)) throw new ValueError(`config() has no setting '${k}'; its settings are ${Object.keys(settings).join(', ')}`);
      if (typeof v !== 'boolean') throw new ValueError(`config(): ${k} must be true or false`);
      (settings as unknown as Record<string, boolean>)[k] = v;
    }
  }
  return { ...settings };
}
