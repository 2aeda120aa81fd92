/**
 * Small tools for scripts and tutorials: strict command-line flags with `--help`, progress bars
 * and epoch lines, SVG line plots of training curves, a seeded generator for reproducible
 * (non-secret) randomness and CSPRNG hex strings for tokens.
 *
 * @example
 * ```ts
 * const flags = sy.utils.flagsOrExit({ epochs: { type: 'number', default: 5, help: 'passes' } }, 'npx tsx train.ts');
 * ```
 */
export { parseFlags, flagsOrExit, usage, FlagError, type FlagSpec, type Flags, type FlagValue } from './flags.js';
export { Progress, epochLine, formatSeconds, type ProgressOptions, type ProgressSink } from './progress.js';
export { linePlot, type Series, type PlotOptions } from './plot.js';
export { SeededRandom } from './seeded.js';
export { randomHex } from './random.js';
