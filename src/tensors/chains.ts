/**
 * Pointer chains and the commands that go with them, as PySyft's "Part 3: Advanced Remote
 * Execution Tools" has them.
 *
 * `x.send(bob).send(alice)` sends the pointer, not the data: Alice holds a pointer to Bob's
 * tensor and we hold a pointer to Alice's pointer. An op on our pointer runs on Alice, whose
 * pointer forwards it to Bob, where the data is; the result is again a chain. `get()` peels one
 * level (Alice gives her pointer back: now ours, pointing at Bob), `remoteGet()` has Alice fetch
 * Bob's tensor so that it sits on Alice, and `move()` moves whatever the pointer points at (for a
 * chain, Alice's pointer) worker to worker.
 *
 * Rules kept here, on the sending side (the receiving worker keeps its own, see src/workers):
 * - a pointer is never sent to the worker it points at, nor to its own owner, so no worker is
 *   made to hold a pointer to itself (a move that lands a pointer on the worker it points at is
 *   resolved to the object there: src/workers/move.ts);
 * - sending a pointer hands the pointer over: the worker that receives it frees what it points
 *   to when the pointer is freed there (src/workers/store.ts);
 * - objects stay the identity's that made them (store.ts), so the receiver must be let use the
 *   object before its pointer can: the pointer's location grants it (`grantFor`) and tells it so,
 *   worker to worker, and the receiver stores the pointer only then (`storeGranted`); the
 *   sender's next commands to the receiver queue behind that store, so none runs before the
 *   grant. A pointer moved on, or fetched with get(), takes the grant along the same way
 *   (PointerTensor.grantTo, called by the worker that hands it out);
 * - chains need workers that forward commands to each other (in-process and thread workers); a
 *   WebSocket worker's links to its peers carry protocol values only, so a chain through one is
 *   refused here with what to do instead.
 *
 * Also here: the commands that tag and describe a worker's object (`ptr.tag('#a')`).
 */
import { ValueError } from '../errors.js';
import { type CommandSpec, argString } from '../workers/commands.js';
import { decodeObject, encodeObject } from '../workers/codec.js';
import { type WireValue, isObjectId } from '../workers/messages.js';
import { addMeta, checkDescription, checkTags } from '../workers/tags.js';
import type { RemoteWorker } from '../workers/worker.js';
import { randomId, randomSessionId } from '../util/random.js';
import { PointerTensor, checkGranted } from './pointer.js';

/** Whether `w` can hold pointers to other workers (see the file's comment). */
function holdsPointers(w: RemoteWorker): boolean {
  return w.holdsPointers !== false;
}

/**
 * Sends the pointer `p` to `dest`: `dest` then holds a pointer to `p`'s object, and the pointer
 * returned points at `dest`'s. `p` is spent (its object belongs to `dest`'s pointer now).
 */
export function sendPointer(p: PointerTensor, dest: RemoteWorker): PointerTensor {
  if (p.released) throw new ValueError(`this pointer to ${p.location.id}:${p.idAtLocation} was already retrieved, moved or freed: it cannot be sent`);
  if (dest.id === p.location.id) {
    throw new ValueError(`this tensor is already on '${dest.id}': a worker never holds a pointer to itself (use it as it is, or move() it elsewhere)`);
  }
  if (dest.id === p.owner.id) throw new ValueError(`'${dest.id}' is this pointer's own worker: use get() to bring the value here`);
  if (!holdsPointers(dest) || !holdsPointers(p.location)) {
    const net = !holdsPointers(dest) ? dest.id : p.location.id;
    throw new ValueError(
      `cannot send a pointer to '${p.location.id}' to '${dest.id}': '${net}' is a network worker, whose links to other workers carry ` +
        'protocol values only, not the commands a pointer chain forwards; move() the data there instead (x.move(worker))',
    );
  }
  if (p.borrowed) throw new ValueError('a borrowed pointer (a search result) does not own its object, so it cannot hand it to another worker: copy() it first');
  // dest must reach what the pointer points at, and that worker dest (for remoteGet, moves back).
  dest.introduce(p.location, p.owner);
  p.location.introduce(dest, p.owner);
  const id = randomId();
  const session = randomSessionId();
  p.location.post({ kind: 'cmd', op: 'grantFor', args: [p.idAtLocation, dest.id, dest.id, session], ret: [] }, p.owner);
  dest.post({ kind: 'cmd', op: 'storeGranted', args: [{ obj: encodeObject(p) }, p.location.id, session], ret: [id] }, p.owner);
  p.handOver();
  const out = new PointerTensor(dest, id, p.shape, p.owner);
  out.pointee = p.location;
  out.fixedPrecision = p.fixedPrecision;
  return out;
}

/**
 * For the commands that are not layer ops (`fixPrecision`, `floatPrecision`, `requiresGrad_`):
 * when the worker's object is itself a pointer, the command goes on to the worker it points at,
 * as layer ops do through the pointer's own methods. Returns the forwarded result (a pointer, or
 * nothing for an effect), or `undefined` when `self` is not a pointer.
 */
export function forwardToPointee(self: unknown, op: string, args: readonly WireValue[], results: 0 | 1): PointerTensor | null | undefined {
  if (!(self instanceof PointerTensor)) return undefined;
  const out = self.command(op, args, results ? [self.shape] : []);
  return results ? out[0]! : null;
}

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const chainCommands: Record<string, CommandSpec> = {};
const commands = chainCommands;

/**
 * PySyft's `remote_get`: the worker holding a pointer fetches the object it points to, which then
 * sits here under the pointer's id. Worker to worker, as a move: the orchestrator never sees it.
 */
commands['remoteGet'] = {
  results: 0,
  needsSelf: true,
  async run(ctx, self) {
    if (!(self instanceof PointerTensor)) {
      throw new ValueError(`remoteGet() needs a pointer to a pointer: worker '${ctx.worker.id}' holds this tensor itself (get() it instead)`);
    }
    if (self.released) throw new ValueError('this pointer was already retrieved or moved');
    const session = randomSessionId();
    const here = ctx.worker.asRemote();
    self.location.introduce(here, ctx.worker);
    self.command('sendTo', [ctx.worker.id, session], []);
    // The object is on its way here: the pointer must not free it.
    self.handOver();
    const node = await ctx.recv(self.location.id, session, 'move');
    ctx.replace(ctx.selfId!, decodeObject(node, { worker: ctx.worker }));
  },
};

/**
 * On the worker a pointer points at: lets `to` (the pointer's receiver) use the object, by a grant
 * of the command's sender (who may use it), then tells worker `notify` (the receiver, or the
 * worker that waits to hand the pointer on) whether it did, as a protocol value.
 */
commands['grantFor'] = {
  results: 0,
  needsSelf: false,
  run(ctx, _self, args) {
    const [id] = args;
    if (!isObjectId(id)) throw new ValueError('grantFor takes an object id, a recipient, the worker to tell and a session');
    const to = argString(args[1], 'recipient', 64);
    const notify = argString(args[2], 'worker to tell', 64);
    const session = argString(args[3], 'session', 32);
    let answer: WireValue = true;
    try {
      ctx.grant(id, to);
    } catch (e) {
      answer = (e as Error).message.slice(0, 300);
    }
    ctx.send(notify, session, 'granted', answer);
  },
};

/**
 * On the receiver of a sent pointer: waits until the worker it points at has let this worker use
 * the object, then stores the pointer. A refusal there fails this store with what it said.
 */
commands['storeGranted'] = {
  results: 1,
  needsSelf: false,
  async run(ctx, _self, args) {
    const from = argString(args[1], 'pointer location', 64);
    const session = argString(args[2], 'session', 32);
    checkGranted(await ctx.recv(from, session, 'granted'), from, ctx.worker.id);
    const pointer = ctx.arg(args[0]);
    if (!(pointer instanceof PointerTensor) || pointer.location.id !== from) {
      throw new ValueError(`storeGranted stores a pointer to '${from}'`);
    }
    return pointer;
  },
};

/** Tags a stored object (`ptr.tag('#a', '#b')` on a pointer): the worker's searches find it by them. */
commands['tag_'] = {
  results: 0,
  needsSelf: true,
  run(_ctx, self, args: readonly WireValue[]) {
    if (args.length !== 1) throw new ValueError('tag_ takes one argument: a list of tags');
    addMeta(self as object, checkTags(args[0], 'tag()'));
  },
};

/** Describes a stored object (`ptr.describe('...')`). */
commands['describe_'] = {
  results: 0,
  needsSelf: true,
  run(_ctx, self, args: readonly WireValue[]) {
    if (args.length !== 1) throw new ValueError('describe_ takes one argument: the description');
    const text = args[0];
    checkDescription(text);
    addMeta(self as object, [], text);
  },
};
