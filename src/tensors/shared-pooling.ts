/**
 * Max pooling of secret-shared values, forward and backward, with the backward routed through
 * the comparisons the forward already made.
 *
 * Forward: the windows of each channel (im2col, local on shares) go through a knockout
 * tournament along the window: each round compares the first half of the candidates with the
 * second half (one secure comparison per pair, `b > a`) and keeps the winners with one Beaver
 * product; an odd candidate out waits for the next round. A k-element window costs k - 1
 * comparisons in ceil(log2 k) rounds.
 *
 * Backward: the generic composite would compare every element with its window's maximum again
 * (two comparisons per element, and the maximum recomputed). Here each window's gradient walks
 * the tournament back down instead: at every round the 0/1 outcome saved by the forward splits
 * the gradient between the two candidates of a pair (t = g · bWins to b, g - t to a), so the
 * whole backward is k - 1 products of a 0/1 share with the gradient, no comparison and no
 * truncation (the outcomes have precision 0). The gradient goes to exactly one element of each
 * window (PyTorch's semantics; among tied elements it is the one the tournament kept).
 *
 * The outcomes are kept beside the input they came from (a WeakMap keyed by the shared input):
 * inside `sy.tidy` they are freed with the step's other intermediates; a backward that finds
 * them freed (forward and backward in different scopes) runs the tournament again.
 */
import type { AbstractTensor } from '../layer/abstract.js';
import { type Pair, windowOut } from '../layer/window.js';

// Padded windows are taken over x + OFFSET (zero padding then loses to every value above
// -OFFSET), as the generic composite does: shares cannot hold -inf.
const OFFSET = 2n ** 24n;

interface Tournament {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  /** Outcome of each round (1 where the second candidate won), [M, h_r, L]. */
  rounds: AbstractTensor[];
}

const saved = new WeakMap<AbstractTensor, Tournament>();

const same = (a: Pair, b: Pair) => a[0] === b[0] && a[1] === b[1];

/** False once any remote object below `t` was freed (a tidy scope ended between forward and backward). */
function alive(t: AbstractTensor): boolean {
  for (const l of t.layers()) if ((l as { released?: boolean }).released) return false;
  return true;
}

/** Windows of each channel as [N*C, kh*kw, L] (padded cells hold 0 after the OFFSET shift). */
function windows(x: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const padded = padding[0] > 0 || padding[1] > 0;
  return (padded ? x.add(OFFSET) : x).reshape([n * c, 1, h, w]).im2col(kernel, stride, padding);
}

/** Maximum along dim 1 of [M, k, L] by a tournament; the outcome of every round. */
function tournament(cols: AbstractTensor): { max: AbstractTensor; rounds: AbstractTensor[] } {
  let x = cols;
  const rounds: AbstractTensor[] = [];
  for (let k = x.shape[1]!; k > 1; k = Math.ceil(k / 2)) {
    const h = Math.floor(k / 2);
    const a = x.slice(0, h, 1);
    const b = x.slice(h, 2 * h, 1);
    const bWins = a.lt(b);
    rounds.push(bWins);
    let next = a.add(bWins.mul(b.sub(a)));
    if (k % 2) next = next.pad(1, 0, 1).add(x.slice(2 * h, k, 1).pad(1, h, 0));
    x = next;
  }
  return { max: x, rounds };
}

/** Shared max pooling, [N, C, H, W] -> [N, C, oh, ow]; keeps the tournament for the backward. */
export function sharedMaxPool2d(x: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = windowOut(h, w, { kernel, stride, padding }, 'maxPool2d');
  const { max, rounds } = tournament(windows(x, kernel, stride, padding));
  saved.set(x, { kernel, stride, padding, rounds });
  const padded = padding[0] > 0 || padding[1] > 0;
  return (padded ? max.sub(OFFSET) : max).reshape([n, c, oh, ow]);
}

/**
 * d(loss)/dx of `sharedMaxPool2d(x, ...)` for the output gradient `g` ([N, C, oh, ow], shared or
 * public): each window's gradient routed down the forward's tournament.
 */
export function sharedMaxPool2dBackward(x: AbstractTensor, g: AbstractTensor, kernel: Pair, stride: Pair, padding: Pair): AbstractTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  let t = saved.get(x);
  if (!t || !same(t.kernel, kernel) || !same(t.stride, stride) || !same(t.padding, padding) || !t.rounds.every(alive)) {
    // No forward to reuse (a gradient asked for on its own, or its outcomes freed by a tidy
    // scope that ended before the backward): run the tournament now.
    t = { kernel, stride, padding, rounds: tournament(windows(x, kernel, stride, padding)).rounds };
  }
  const m = n * c;
  const k = kernel[0] * kernel[1];
  const l = g.shape[2]! * g.shape[3]!;
  let sel = g.reshape([m, 1, l]);
  // Widths of the candidate lists, round by round: k, ceil(k/2), ..., 1.
  const widths: number[] = [];
  for (let r = k; r > 1; r = Math.ceil(r / 2)) widths.push(r);
  for (let r = t.rounds.length - 1; r >= 0; r--) {
    const width = widths[r]!;
    const half = Math.floor(width / 2);
    const winners = sel.slice(0, half, 1);
    // outcome · gradient first: the outcome is shared, the gradient may be public.
    const toB = t.rounds[r]!.mul(winners);
    let spread = toB.neg().add(winners).pad(1, 0, width - half).add(toB.pad(1, half, width - 2 * half));
    if (width % 2) spread = spread.add(sel.slice(half, half + 1, 1).pad(1, width - 1, 0));
    sel = spread;
  }
  return sel.col2im([h, w], kernel, stride, padding).reshape([n, c, h, w]);
}
