/**
 * How deep the command being run was forwarded: a command on a pointer that a worker holds is
 * sent on to the pointer's worker, one hop further. Pointers read the depth while a worker runs
 * a command (synchronously, where pointer ops post), and stamp it on what they send; a worker
 * refuses a command forwarded more than `limits.maxHops` times. So a pointer stored under its own
 * id, or a cycle of pointers across workers, ends in a clear error instead of posting forever.
 */
let depth: number | undefined;

/** Runs `fn` as the handling of a command that arrived after `hops` forwards. */
export function withHops<T>(hops: number, fn: () => T): T {
  const before = depth;
  depth = hops;
  try {
    return fn();
  } finally {
    depth = before;
  }
}

/** The hop count a command sent now carries: undefined outside a worker's command. */
export function nextHops(): number | undefined {
  return depth === undefined ? undefined : depth + 1;
}
