// The special functions behind the accountants, against 40-digit values from mpmath (erfc and its
// logarithm at the listed points, printed to 17 digits).
import { describe, expect, test } from 'vitest';
import { erfc, logAdd, logErfc, logNormCdf, logSub, normCdf } from '../../src/dp/math.js';

// [x, erfc(x), log(erfc(x))]; erfc below the double range is null.
const ERFC: [number, number | null, number][] = [
  [-5, 1.9999999999984625, 0.69314718055917658],
  [-1.5, 1.9661051464753107, 0.67605450273396056],
  [-0.7, 1.6778011938374184, 0.51748412297910575],
  [-0.1, 1.1124629160182849, 0.10657640058652249],
  [0, 1.0, 0.0],
  [1e-8, 9.9999998871620833e-1, -1.1283791734617103e-8],
  [0.3, 6.7137324054087258e-1, -0.39843005144008527],
  [0.5, 4.7950012218695346e-1, -0.7350111298370844],
  [0.99, 1.614919304446302e-1, -1.8233001038549018],
  [1, 1.5729920705028513e-1, -1.8496055099332482],
  [1.01, 1.531895037717233e-1, -1.8760795372621894],
  [1.7, 1.6209541409225439e-2, -4.1221552342439039],
  [2.5, 4.0695201744495894e-4, -7.8068152727272644],
  [4, 1.5417257900280019e-8, -17.987778312103007],
  [7.5, 2.7766493860305691e-26, -58.845967473872315],
  [12, 1.3562611692059042e-64, -147.06071417798701],
  [26.5, 2.2109076642637343e-307, -706.10022041014809],
  [30, null, -903.97411711064388],
  [80, null, -6404.9544696873457],
  [300, null, -90006.276152973059],
];

function rel(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

describe('erfc', () => {
  // erfc's condition number is about 2x^2 (a relative change u in x moves erfc by 2x^2 u), so its
  // tolerance scales with it; log erfc is well conditioned relative to its size.
  test.each(ERFC)('erfc(%s) and log erfc to 4e-15 relative (times the condition number)', (x, e, le) => {
    if (e !== null) expect(rel(erfc(x), e)).toBeLessThan(4e-15 * Math.max(2, 2 * x * x));
    else expect(erfc(x)).toBe(0);
    expect(Math.abs(logErfc(x) - le)).toBeLessThan(4e-15 * Math.max(1, Math.abs(le)));
  });

  test('is continuous where the method changes (x = 1) and keeps erfc(-x) = 2 - erfc(x)', () => {
    expect(rel(erfc(1 - 1e-15), erfc(1))).toBeLessThan(1e-14);
    for (const x of [0.2, 0.9, 1.3, 3]) expect(Math.abs(erfc(-x) - (2 - erfc(x)))).toBeLessThan(1e-15);
  });

  test('normal CDF', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(rel(normCdf(1.959963984540054), 0.975)).toBeLessThan(1e-15);
    // log Phi(-30) = log(erfc(30/sqrt2)/2), far below the double range of Phi itself
    expect(rel(logNormCdf(-30), -454.3212439563432)).toBeLessThan(1e-14);
  });
});

describe('log-space sums', () => {
  test('logAdd and logSub', () => {
    expect(logAdd(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 15);
    expect(logAdd(-Infinity, 1.5)).toBe(1.5);
    expect(logSub(Math.log(5), Math.log(3))).toBeCloseTo(Math.log(2), 15);
    expect(logSub(2, 2)).toBe(-Infinity);
    expect(logSub(800, 1)).toBe(800);
    expect(() => logSub(1, 2)).toThrow(RangeError);
  });
});
