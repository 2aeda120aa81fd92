// Accountants by name ('rdp', 'gdp'), as Opacus's create_accountant, for the code that takes an
// accountant option (getNoiseMultiplier, and later the privacy engine).
import { ValueError } from '../../errors.js';
import type { AccountantMechanism, PrivacyAccountant } from './accountant.js';
import { GaussianAccountant } from './gdp.js';
import { RDPAccountant } from './rdp.js';

/** The accountant names {@link createAccountant} knows. */
export const ACCOUNTANTS: readonly AccountantMechanism[] = ['rdp', 'gdp'];

/**
 * A new, empty accountant of the named mechanism.
 *
 * @example
 * ```ts
 * const accountant = sy.dp.createAccountant('rdp');
 * accountant.step({ noiseMultiplier: 1.1, sampleRate: 0.01 });
 * ```
 */
export function createAccountant(mechanism: AccountantMechanism): PrivacyAccountant {
  switch (mechanism) {
    case 'rdp':
      return new RDPAccountant();
    case 'gdp':
      return new GaussianAccountant();
    default:
      throw new ValueError(`no accountant named '${String(mechanism)}'; choose one of ${ACCOUNTANTS.join(', ')}`);
  }
}
