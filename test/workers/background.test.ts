// A command's background work (CommandContext.background): the worker reports idle only once it
// settles. Thread workers rely on that report to know when they may let the process exit; the
// dealer computes its corrections this way, after its commands have returned.
import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { registerCommand } from '../../src/workers/commands.js';

let release: (() => void) | undefined;
registerCommand('test.background', {
  results: 0,
  needsSelf: false,
  run(ctx) {
    ctx.background(new Promise<void>((resolve) => (release = resolve)));
  },
});

test('a worker with background work is not idle until the work settles', async () => {
  const w = new sy.VirtualWorker({ id: 'bg-worker' });
  const me = new sy.VirtualWorker({ id: 'bg-orchestrator' });
  let idle = 0;
  w.onIdle = () => idle++;
  w.post({ kind: 'cmd', op: 'test.background', args: [], ret: [] }, me);
  await w.sync();
  // The command returned and the queue has run dry twice (the command, then sync), but its work
  // goes on: no idle report yet.
  await new Promise((r) => setTimeout(r, 20));
  expect(idle).toBe(0);
  expect(release).toBeDefined();
  release!();
  await new Promise((r) => setTimeout(r, 0));
  expect(idle).toBe(1);
  // Later commands report idle as before.
  await w.sync();
  expect(idle).toBe(2);
});
