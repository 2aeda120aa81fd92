/**
 * The command line's flags for a worker's limits: one flag per limit, named after it
 * (`maxBytesPerSession` is `--max-bytes-per-session`), with its default and meaning for `--help`.
 * Three groups: what one sender's commands may cost (limits.ts), what a connection may do before
 * it authenticates (websocket/admission.ts), and sessions (websocket/sessions.ts).
 */
import { ValueError } from '../errors.js';
import { DEFAULT_LIMITS, type WorkerLimits } from './limits.js';
import { type AdmissionLimits, DEFAULT_ADMISSION } from './websocket/admission.js';
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from './websocket/sessions.js';

type Group = 'limits' | 'admission' | 'sessionLimits';

interface Flag {
  flag: string;
  key: string;
  group: Group;
  dflt: number;
  help: string;
}

const HELP: Record<string, string> = {
  maxObjectsPerSession: 'objects one client may hold',
  maxBytesPerSession: 'bytes of tensor data one client may hold',
  maxBytes: 'bytes of tensor data the whole worker may hold',
  maxElementsPerOp: 'elements one op may allocate for its result',
  maxMacsPerOp: 'multiply-adds one matrix product or convolution may cost',
  maxDealElements: 'elements of correlated randomness one deal may ask for',
  maxQueuedPerSession: 'messages waiting in one client’s queue',
  maxMailboxPerSender: 'protocol values waiting undelivered from one sender',
  maxKeyBits: 'largest Paillier key generated on request, in bits',
  maxHops: 'pointers a command may be forwarded through',
  maxUnauthenticated: 'connections not yet authenticated, at once (the oldest is closed)',
  maxPreHelloBytes: 'bytes a connection may send before it authenticates',
  handshakeTimeoutMs: 'ms from accept to authenticated',
  loginBurst: 'failed logins from one address before it must wait',
  loginBackoffMaxMs: 'longest wait for an address that keeps failing, in ms',
  maxSessions: 'sessions at once (down ones are reclaimed first)',
  maxSessionsPerIdentity: 'sessions one client name or peer id may hold',
  maxUnackedBytes: 'bytes of replies a session may leave unacknowledged',
  maxUnackedFrames: 'replies a session may leave unacknowledged (then it ends)',
};

const kebab = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function flagsOf(group: Group, defaults: object): Flag[] {
  return Object.entries(defaults).map(([key, dflt]) => ({ flag: kebab(key), key, group, dflt: dflt as number, help: HELP[key] ?? key }));
}

/** Every limit flag, in the order `--help` lists them. */
export const LIMIT_FLAGS: readonly Flag[] = [
  ...flagsOf('limits', DEFAULT_LIMITS),
  ...flagsOf('admission', DEFAULT_ADMISSION),
  ...flagsOf('sessionLimits', DEFAULT_SESSION_LIMITS),
];

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** A whole number with an optional suffix: `65536`, `64KiB`, `2GiB`, `1M`. */
export function parseAmount(text: string, flag: string): number {
  const m = /^(\d+)(k|M|G|KiB|MiB|GiB|TiB)?$/.exec(text);
  const n = m ? Number(m[1]) * SUFFIX[m[2] ?? '']! : NaN;
  if (!Number.isSafeInteger(n)) throw new ValueError(`${flag} takes a whole number, optionally with k, M, G, KiB, MiB or GiB (like 2GiB), got '${text}'`);
  return n;
}

function shown(n: number, key: string): string {
  if (/Bytes/.test(key)) for (const s of ['TiB', 'GiB', 'MiB', 'KiB'] as const) if (n >= SUFFIX[s]! && n % SUFFIX[s]! === 0) return `${n / SUFFIX[s]!}${s}`;
  return n >= 2 ** 20 && Number.isInteger(Math.log2(n)) ? `2^${Math.log2(n)}` : String(n);
}

/** `--help` lines for the limit flags. */
export function limitFlagsHelp(): string {
  const titles: Record<Group, string> = {
    limits: 'Limits on what one client may cost (a refusal is a QuotaError naming the limit):',
    admission: 'Before a connection authenticates:',
    sessionLimits: 'Sessions:',
  };
  const out: string[] = [];
  let group: Group | undefined;
  for (const f of LIMIT_FLAGS) {
    if (f.group !== group) out.push('', `  ${titles[(group = f.group)]}`);
    out.push(`  ${`${f.flag} N`.padEnd(30)} ${f.help} (default ${shown(f.dflt, f.key)})`);
  }
  return out.join('\n');
}

/** The values of the limit flags that were given, by group. */
export interface LimitOptions {
  limits?: Partial<WorkerLimits>;
  admission?: Partial<AdmissionLimits>;
  sessionLimits?: Partial<SessionLimits>;
}

/** Options for `node:util` parseArgs: every limit flag takes a string. */
export function limitParseOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(LIMIT_FLAGS.map((f) => [f.flag.slice(2), { type: 'string' as const }]));
}

/** Reads the limit flags out of parsed values. Throws a ValueError for a malformed amount. */
export function limitOptions(values: Record<string, unknown>): LimitOptions {
  const out: LimitOptions = {};
  for (const f of LIMIT_FLAGS) {
    const v = values[f.flag.slice(2)];
    if (typeof v !== 'string') continue;
    const n = parseAmount(v, f.flag);
    if (n < 1 && f.group !== 'limits') throw new ValueError(`${f.flag} must be at least 1, got '${v}'`);
    ((out[f.group] ??= {}) as Record<string, number>)[f.key] = n;
  }
  return out;
}
