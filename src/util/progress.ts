/**
 * Progress for long work: a bar with percentage, rate and time left on a terminal, or a line every
 * tenth of the way when the output is a file or a pipe (logs stay readable); and epoch lines with
 * loss, accuracy and time. One small module, used by every tutorial.
 */

/** Where progress goes: a terminal (redrawn in place) or line by line. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY?: boolean;
}

function defaultSink(): ProgressSink {
  const out = typeof process !== 'undefined' ? process.stderr : undefined;
  return out ? { write: (t) => void out.write(t), isTTY: out.isTTY } : { write: (t) => console.log(t.trimEnd()) };
}

const clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressOptions {
  /** What is counted, for the rate (`batches`, `keys`). */
  unit?: string;
  sink?: ProgressSink;
  /** Bar width in characters (terminal only). */
  width?: number;
}

/**
 * A progress bar: `tick()` as work gets done, `done()` at the end.
 *
 * @example
 * ```ts
 * const bar = new sy.utils.Progress('filling the pool', 1000, { unit: 'factors' });
 * for (let i = 0; i < 1000; i++) { work(); bar.tick(); }
 * bar.done();
 * ```
 */
export class Progress {
  readonly #sink: ProgressSink;
  readonly #start = clock();
  readonly #width: number;
  readonly #unit: string;
  #count = 0;
  #lastDraw = -Infinity;
  #lastTenth = 0;
  #ended = false;

  constructor(readonly label: string, readonly total: number, opts: ProgressOptions = {}) {
    this.#sink = opts.sink ?? defaultSink();
    this.#width = opts.width ?? 24;
    this.#unit = opts.unit ?? 'steps';
  }

  get count(): number {
    return this.#count;
  }

  /** The current line (what a terminal shows). */
  line(): string {
    const frac = this.total > 0 ? Math.min(1, this.#count / this.total) : 1;
    const secs = (clock() - this.#start) / 1000;
    const rate = secs > 0 ? this.#count / secs : 0;
    const left = rate > 0 ? (this.total - this.#count) / rate : Infinity;
    const filled = Math.round(frac * this.#width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(this.#width - filled)}`;
    const rateText = rate >= 10 ? rate.toFixed(0) : rate.toFixed(2);
    return `${this.label} [${bar}] ${(100 * frac).toFixed(0).padStart(3)}% ${this.#count}/${this.total} ${rateText} ${this.#unit}/s, ${formatSeconds(secs)} elapsed, ${this.#count >= this.total ? 'done' : `${formatSeconds(left)} left`}`;
  }

  /** Counts `n` more units of work. */
  tick(n = 1): void {
    this.#count += n;
    const now = clock();
    if (this.#sink.isTTY) {
      if (now - this.#lastDraw < 100 && this.#count < this.total) return;
      this.#lastDraw = now;
      this.#sink.write(`\r${this.line()}`);
    } else {
      const tenth = this.total > 0 ? Math.floor((10 * this.#count) / this.total) : 10;
      if (tenth > this.#lastTenth && tenth < 10) {
        this.#lastTenth = tenth;
        this.#sink.write(`${this.line()}\n`);
      }
    }
  }

  /** Ends the bar (prints its last state on its own line). */
  done(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sink.write(`${this.#sink.isTTY ? '\r' : ''}${this.line()}\n`);
  }
}

/** One line per epoch: `epoch 3/20  loss 0.1234  accuracy 91.2%  4.1s`. */
export function epochLine(fields: { epoch: number; epochs: number; loss?: number; accuracy?: number; seconds: number; [extra: string]: number | undefined }): string {
  const parts = [`epoch ${String(fields.epoch).padStart(String(fields.epochs).length)}/${fields.epochs}`];
  if (fields.loss !== undefined) parts.push(`loss ${fields.loss.toFixed(4)}`);
  if (fields.accuracy !== undefined) parts.push(`accuracy ${(100 * fields.accuracy).toFixed(1)}%`);
  for (const [k, v] of Object.entries(fields)) {
    if (['epoch', 'epochs', 'loss', 'accuracy', 'seconds'].includes(k) || v === undefined) continue;
    parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
  }
  parts.push(formatSeconds(fields.seconds));
  return parts.join('  ');
}
