/**
 * Keeps a client's messages in the order they were posted when one of them cannot leave at once.
 * An introduction needs a freshly minted ticket; in pages that is an asynchronous WebCrypto HMAC,
 * yet `introduce` must be ordered before everything posted after it. So the introduction takes
 * its place in line ({@link Outbox.later}), later messages wait behind it, and all go out, in
 * order, as soon as it is ready. Where nothing waits (always, in Node) a message leaves at once.
 */
export class Outbox {
  #line: { run: ((late: boolean) => void) | undefined }[] = [];
  #flushing = false;

  constructor(private readonly failed: (e: unknown) => void) {}

  /** Runs `send` now (`late` false: its errors reach the caller), or after what waits before it (`late` true). */
  send(send: (late: boolean) => void): void {
    if (this.#line.length === 0) return send(false);
    if (this.#flushing) return send(true);
    this.#line.push({ run: send });
  }

  /** Reserves a place in line for what `ready` resolves to; a failure frees the place. */
  later(ready: Promise<() => void>): void {
    const slot: { run: ((late: boolean) => void) | undefined } = { run: undefined };
    this.#line.push(slot);
    ready.then(
      (run) => {
        slot.run = run;
        this.flush();
      },
      (e: unknown) => {
        slot.run = () => this.failed(e);
        this.flush();
      },
    );
  }

  private flush(): void {
    this.#flushing = true;
    try {
      while (this.#line.length > 0 && this.#line[0]!.run !== undefined) {
        const { run } = this.#line.shift()!;
        try {
          run!(true);
        } catch (e) {
          this.failed(e);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
