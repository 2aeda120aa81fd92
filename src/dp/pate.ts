// PATE privacy analysis (Papernot, Abadi, Erlingsson, Goodfellow, Talwar, "Semi-supervised
// Knowledge Transfer for Deep Learning from Private Training Data", ICLR 2017), as PySyft 0.2's
// syft.frameworks.torch.dp.pate.perform_analysis computes it.
//
// The student's labels come from the noisy max of teacher votes (Laplace noise of scale
// 1/noiseEps on each count), which is 2 noiseEps-DP per query since one teacher's vote moves two
// counts. The moments accountant tracks, for l = 1..moments, a bound on the log moment-generating
// function of the privacy loss:
//   q       = sum over labels j != winner of (2 + gap_j) / (4 e^{gap_j}), gap_j = noiseEps (n_win - n_j),
//             capped at 1 - 1/numLabels  (a bound on Pr[the noisy max is not the plurality label]);
//   logmgf  = min(eps^2 l (l+1) / 2,  log((1-q) ((1-q) / (1 - e^eps q))^l + q e^{eps l}),  eps l)
//             with eps = 2 noiseEps, the middle term only when q < 1/2 (and used only when positive);
//   epsilon = min over l of (sum of logmgf over the answered queries - log delta) / l.
// The data-dependent bound uses each query's teacher votes; the data-independent one uses q = 1
// for every query. (PySyft also computes a smooth-sensitivity sum it does not return; it is left
// out here, which changes neither figure.)
import { ValueError } from '../errors.js';

/** Options of {@link performAnalysis}. */
export interface PerformAnalysisOptions {
  /**
   * The teachers' predicted labels, one row per teacher and one column per example
   * (numTeachers x numExamples); labels are integers 0..numLabels-1.
   */
  teacherPreds: ArrayLike<ArrayLike<number>>;
  /**
   * The examples whose noisy-max labels were released to the student (one entry per answered
   * query; PySyft requires as many entries as examples).
   */
  indices: ArrayLike<number>;
  /** The Laplace noise parameter of the noisy max (noise scale 1/noiseEps). */
  noiseEps: number;
  /** Target delta; default 1e-5. */
  delta?: number;
  /** Number of moments l = 1..moments tracked; default 8. */
  moments?: number;
  /**
   * Number of labels; default the largest label + 1 (PySyft counts the distinct labels, the same
   * number whenever its analysis runs).
   */
  numLabels?: number;
}

/** The two epsilons of {@link performAnalysis}. */
export interface PateAnalysis {
  /** The bound that uses the teachers' agreement on each answered query. */
  dataDependentEps: number;
  /** The bound that holds whatever the votes were. */
  dataIndependentEps: number;
  /** The moment l that gave the data-dependent bound; if it equals `moments`, try more moments. */
  bestMoment: number;
}

/**
 * A bound on the probability that the noisy max of `counts` is not the plurality label.
 *
 * @example
 * ```ts
 * sy.dp.pate.computeQNoisyMax([120, 30, 50, 0, 0, 0, 0, 0, 0, 0], 0.1); // 0.00254...
 * ```
 */
export function computeQNoisyMax(counts: ArrayLike<number>, noiseEps: number): number {
  let winner = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[winner]!) winner = i;
  let q = 0;
  for (let i = 0; i < counts.length; i++) {
    if (i === winner) continue;
    const gap = -(noiseEps * (counts[i]! - counts[winner]!));
    q += (gap + 2) / (4 * Math.exp(gap));
  }
  return Math.min(q, 1 - 1 / counts.length);
}

/**
 * The bound on the l-th log moment of an eps-DP answer that is wrong with probability at most q.
 *
 * @example
 * ```ts
 * sy.dp.pate.logmgfExact(0.01, 0.2, 3); // 0.01478...
 * ```
 */
export function logmgfExact(q: number, privEps: number, l: number): number {
  let logT: number;
  if (q < 0.5) {
    const tOne = (1 - q) * Math.pow((1 - q) / (1 - Math.exp(privEps) * q), l);
    const tTwo = q * Math.exp(privEps * l);
    const t = tOne + tTwo;
    logT = t > 0 ? Math.log(t) : privEps * l;
  } else {
    logT = privEps * l;
  }
  return Math.min(0.5 * privEps * privEps * l * (l + 1), logT, privEps * l);
}

/**
 * The l-th log moment bound of one noisy-max answer with the given vote counts (2 noiseEps-DP).
 *
 * @example
 * ```ts
 * sy.dp.pate.logmgfFromCounts([120, 30, 50, 0, 0, 0, 0, 0, 0, 0], 0.1, 8); // 0.01445...
 * ```
 */
export function logmgfFromCounts(counts: ArrayLike<number>, noiseEps: number, l: number): number {
  return logmgfExact(computeQNoisyMax(counts, noiseEps), 2 * noiseEps, l);
}

function fail(message: string): never {
  throw new ValueError(message);
}

/**
 * PATE analysis of the student's labels: the data-dependent and data-independent epsilon at
 * `delta`, as PySyft's `perform_analysis`.
 *
 * @example
 * ```ts
 * // 100 teachers, 50 examples; teacherPreds[j][i] is teacher j's label for example i
 * const { dataDependentEps, dataIndependentEps } = sy.dp.pate.performAnalysis({
 *   teacherPreds, indices, noiseEps: 0.1, delta: 1e-5,
 * });
 * ```
 */
export function performAnalysis(options: PerformAnalysisOptions): PateAnalysis {
  const { teacherPreds, indices, noiseEps, delta = 1e-5, moments = 8 } = options;
  if (teacherPreds === null || typeof teacherPreds !== 'object' || typeof teacherPreds.length !== 'number' || teacherPreds.length === 0) {
    fail('teacherPreds must be a non-empty array of rows, one per teacher (numTeachers x numExamples)');
  }
  if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') {
    fail('indices must be an array of example indices (the answered queries)');
  }
  if (typeof noiseEps !== 'number' || !(noiseEps > 0) || !Number.isFinite(noiseEps)) fail(`noiseEps must be a finite number > 0, got ${String(noiseEps)}`);
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) fail(`delta must be in (0, 1), got ${String(delta)}`);
  if (!Number.isSafeInteger(moments) || moments < 1) fail(`moments must be a positive integer, got ${String(moments)}`);

  const numTeachers = teacherPreds.length;
  const numExamples = teacherPreds[0]!.length;
  let maxLabel = -1;
  for (let j = 0; j < numTeachers; j++) {
    const row = teacherPreds[j];
    if (row === undefined || row === null || row.length !== numExamples) {
      fail(`teacherPreds row ${j} has ${row?.length} entries, row 0 has ${numExamples}: every teacher needs a label for every example`);
    }
    for (let i = 0; i < numExamples; i++) {
      const p = row[i]!;
      if (!Number.isInteger(p) || p < 0) fail(`teacherPreds[${j}][${i}] = ${p} is not a label (a non-negative integer)`);
      if (p > maxLabel) maxLabel = p;
    }
  }
  const numLabels = options.numLabels ?? maxLabel + 1;
  if (!Number.isSafeInteger(numLabels) || numLabels < 1 || numLabels <= maxLabel) {
    fail(`numLabels must be an integer above every label (largest label ${maxLabel}), got ${String(options.numLabels)}`);
  }

  const counts: Float64Array[] = [];
  for (let i = 0; i < numExamples; i++) counts.push(new Float64Array(numLabels));
  for (let j = 0; j < numTeachers; j++) {
    const row = teacherPreds[j]!;
    for (let i = 0; i < numExamples; i++) counts[i]![row[i]!]! += 1;
  }

  const totalLogMgf = new Float64Array(moments);
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    if (!Number.isInteger(i) || i < 0 || i >= numExamples) fail(`indices[${n}] = ${i} is not an example index in [0, ${numExamples})`);
    const q = computeQNoisyMax(counts[i]!, noiseEps);
    for (let m = 0; m < moments; m++) totalLogMgf[m]! += logmgfExact(q, 2 * noiseEps, m + 1);
  }

  const logDelta = Math.log(delta);
  let dataDependentEps = Infinity;
  let bestMoment = 0;
  let dataIndependentEps = Infinity;
  for (let m = 0; m < moments; m++) {
    const l = m + 1;
    const eps = (totalLogMgf[m]! - logDelta) / l;
    if (eps < dataDependentEps) {
      dataDependentEps = eps;
      bestMoment = l;
    }
    const indep = (indices.length * logmgfExact(1, 2 * noiseEps, l) - logDelta) / l;
    if (indep < dataIndependentEps) dataIndependentEps = indep;
  }
  return { dataDependentEps, dataIndependentEps, bestMoment };
}
