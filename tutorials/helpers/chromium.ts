// Drives the machine's headless Chromium over the DevTools protocol (a small client on the `ws`
// package: no browser is downloaded, no puppeteer needed). `CHROMIUM` names the binary; by
// default the first of chromium, chromium-browser, google-chrome found on PATH. Used by tutorial
// 13, the browser tests (test/browser/) and the browser benchmarks.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';

/** The Chromium binary here, or undefined when there is none. */
export function findChromium(): string | undefined {
  const names = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((n): n is string => !!n);
  for (const n of names) {
    try {
      return execFileSync('sh', ['-c', `command -v ${JSON.stringify(n).slice(1, -1)}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

/** One tab. */
export class Page {
  readonly logs: string[] = [];

  constructor(
    private readonly browser: Browser,
    readonly sessionId: string,
  ) {}

  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value; a thrown error rejects with its message. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.browser.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, this.sessionId);
    const ex = r.exceptionDetails as { exception?: { description?: string }; text?: string } | undefined;
    if (ex) throw new Error(`in the page: ${ex.exception?.description ?? ex.text}\n--- page console ---\n${this.logs.slice(-20).join('\n')}`);
    return (r.result as { value: T }).value;
  }

  /** Loads `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.browser.once('Page.loadEventFired', this.sessionId);
    await this.browser.send('Page.navigate', { url }, this.sessionId);
    await loaded;
  }

  /** Picks `files` (paths on this machine) in the page's file input `selector`, as a user would. */
  async setFiles(selector: string, files: string[]): Promise<void> {
    const { root } = (await this.browser.send('DOM.getDocument', {}, this.sessionId)) as { root: { nodeId: number } };
    const { nodeId } = (await this.browser.send('DOM.querySelector', { nodeId: root.nodeId, selector }, this.sessionId)) as { nodeId: number };
    if (!nodeId) throw new Error(`no element ${selector} in the page`);
    await this.browser.send('DOM.setFileInputFiles', { nodeId, files }, this.sessionId);
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Buffer> {
    const r = await this.browser.send('Page.captureScreenshot', { format: 'png' }, this.sessionId);
    return Buffer.from(r.data as string, 'base64');
  }

  close(): Promise<unknown> {
    return this.browser.send('Target.closeTarget', { targetId: this.targetId });
  }

  targetId = '';
}

export class Browser {
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(method: string, params: Record<string, unknown>, sessionId?: string) => void>();
  readonly #pages = new Map<string, Page>();

  private constructor(
    private readonly proc: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(`DevTools: ${m.error.message}`));
        else p?.resolve(m.result ?? {});
        return;
      }
      if (m.method === 'Runtime.consoleAPICalled' && m.sessionId) {
        const args = (m.params!.args as { value?: unknown; description?: string }[]).map((a) => (a.value !== undefined ? String(a.value) : a.description));
        this.#pages.get(m.sessionId)?.logs.push(`[${String(m.params!.type)}] ${args.join(' ')}`);
      }
      if (m.method === 'Runtime.exceptionThrown' && m.sessionId) {
        const d = m.params!.exceptionDetails as { exception?: { description?: string }; text?: string };
        this.#pages.get(m.sessionId)?.logs.push(`[uncaught] ${d.exception?.description ?? d.text}`);
      }
      for (const l of this.#listeners) l(m.method!, m.params ?? {}, m.sessionId);
    });
  }

  /** Starts headless Chromium; rejects with a clear message when it does not come up. */
  static async launch(binary: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'syft-chromium-'));
    const args = [
      '--headless=new',
      '--no-sandbox', // CI containers run as root, where Chromium's sandbox cannot start
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--window-size=1024,1000',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ];
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start within 30 s:\n${err.slice(-2000)}`)), 30_000);
      proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited (${code}) before it listened:\n${err.slice(-2000)}`));
      });
    });
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Browser(proc, ws, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  once(method: string, sessionId?: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const l = (m: string, p: Record<string, unknown>, s?: string) => {
        if (m !== method || (sessionId && s !== sessionId)) return;
        this.#listeners.delete(l);
        resolve(p);
      };
      this.#listeners.add(l);
    });
  }

  /** Opens a tab at `url` and waits for it to load. */
  async newPage(url: string): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    page.targetId = targetId;
    this.#pages.set(sessionId, page);
    await this.send('Page.enable', {}, sessionId);
    await this.send('Runtime.enable', {}, sessionId);
    await page.goto(url);
    return page;
  }

  async close(): Promise<void> {
    const exited = this.proc.exitCode !== null ? Promise.resolve() : new Promise((r) => this.proc.once('exit', r));
    this.send('Browser.close').catch(() => {});
    // A clean exit lets Chromium's helper processes finish with the profile before it is removed.
    const clean = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    this.ws.terminate();
    if (!clean) {
      this.proc.kill('SIGKILL');
      await exited;
    }
    try {
      rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch {
      // a helper process still writing: the scratch profile stays in the temp folder
    }
  }
}
