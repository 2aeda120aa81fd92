/**
 * Tags and descriptions of objects (PySyft's `tensor.tag('#mnist')`, `.describe('...')`), and the
 * worker's half of `search`: every kind of worker answers `search(['#mnist', '#train'])` with the
 * objects that carry every tag asked for.
 *
 * Tags belong to the object, not to a handle or a worker: they are kept beside it here (a weak
 * map, so they go when the object goes) and travel with it when it is encoded, as two optional
 * fields of its wire node (`tags`, `description`) that the codec layer adds and strips around every
 * object's own codec (workers/codec.ts). So `x.tag('#a').send(bob)` leaves the tags with Bob,
 * `get()` brings them back, and `move()` takes them along. The fields are checked like every
 * other: at most {@link MAX_TAGS} tags of 1-128 printable characters, a description of at most
 * {@link MAX_DESCRIPTION} characters.
 */
import { ProtocolError, ValueError, WireFormatError } from '../errors.js';
import type { ObjectId, WireNode, WireValue } from './messages.js';

/** The most tags one object carries. */
export const MAX_TAGS = 64;
/** The longest description, in characters. */
export const MAX_DESCRIPTION = 4096;
/** The most objects one search answer lists. */
export const MAX_FOUND = 10_000;

/** What is known about an object besides its value. */
export interface ObjectMeta {
  readonly tags: readonly string[];
  readonly description: string | undefined;
}

const metas = new WeakMap<object, ObjectMeta>();

/** A tag: 1-128 printable characters without spaces (PySyft's tags look like '#boston'). */
export function checkTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(tag)) {
    throw new ValueError(`a tag is 1-128 printable characters without spaces (like '#housing'), got ${JSON.stringify(tag)?.slice(0, 140)}`);
  }
}

/** A description: a string of at most {@link MAX_DESCRIPTION} characters. */
export function checkDescription(text: unknown): asserts text is string {
  if (typeof text !== 'string' || text.length > MAX_DESCRIPTION) {
    throw new ValueError(`a description is a string of at most ${MAX_DESCRIPTION} characters, got ${typeof text === 'string' ? `${text.length} characters` : typeof text}`);
  }
}

/** Tags as a list: one tag, or an array of them; each checked, duplicates dropped, order kept. */
export function checkTags(tags: unknown, where = 'tags'): string[] {
  const list = typeof tags === 'string' ? [tags] : tags;
  if (!Array.isArray(list)) throw new ValueError(`${where} must be a tag or an array of tags, got ${typeof tags}`);
  if (list.length > MAX_TAGS) throw new ValueError(`${where}: at most ${MAX_TAGS} tags, got ${list.length}`);
  for (const t of list) checkTag(t);
  return [...new Set(list as string[])];
}

/** The tags and description of `obj` (none when it has none). */
export function metaOf(obj: object): ObjectMeta | undefined {
  return metas.get(obj);
}

/** Adds `tags` (and, when given, sets the description) of `obj`. Returns what it now carries. */
export function addMeta(obj: object, tags: readonly string[], description?: string): ObjectMeta {
  const before = metas.get(obj);
  const all = [...new Set([...(before?.tags ?? []), ...tags])];
  if (all.length > MAX_TAGS) throw new ValueError(`an object carries at most ${MAX_TAGS} tags; this one would carry ${all.length}`);
  const meta = { tags: all, description: description ?? before?.description };
  metas.set(obj, meta);
  return meta;
}

/** Gives `to` the tags and description of `from` (a layer that replaces another keeps its tags). */
export function copyMeta(from: object, to: object): void {
  const m = metas.get(from);
  if (m && from !== to) addMeta(to, m.tags, m.description);
}

// ---- on the wire: two optional fields of an object's node -------------------------------------

/** Adds `obj`'s tags and description to its encoded node (codec.ts calls it for every object). */
export function writeMeta(obj: object, node: WireNode): WireNode {
  const m = metas.get(obj);
  if (!m) return node;
  if (m.tags.length) node.tags = [...m.tags];
  if (m.description !== undefined) node.description = m.description;
  return node;
}

/**
 * Takes the tags and description off a node before its codec sees it (codecs refuse fields they
 * do not know), checked. Returns the node without them, and what they said.
 */
export function readMeta(node: WireNode): { node: WireNode; meta: ObjectMeta | undefined } {
  if (!('tags' in node) && !('description' in node)) return { node, meta: undefined };
  const { tags, description, ...rest } = node;
  try {
    if (tags !== undefined && !Array.isArray(tags)) throw new ValueError('tags must be a list');
    const list = tags === undefined ? [] : checkTags(tags);
    if (description !== undefined) checkDescription(description);
    return { node: rest as WireNode, meta: { tags: list, description: description as string | undefined } };
  } catch (e) {
    throw new WireFormatError(`bad '${node.type}' object: ${(e as Error).message}`);
  }
}

/** Attaches what {@link readMeta} read to the decoded object. */
export function attachMeta(obj: object, meta: ObjectMeta | undefined): void {
  if (meta && (meta.tags.length || meta.description !== undefined)) addMeta(obj, meta.tags, meta.description);
}

// ---- search ------------------------------------------------------------------------------------

/** One object a search found (a type, not an interface: it travels as a wire value). */
export type Found = { id: ObjectId; shape: number[]; tags: string[]; description?: string };

/**
 * The query of a `search` request: a list of tags (all of which an object must carry), or one
 * tag. An empty list asks for every tagged object, as PySyft's does.
 */
export function parseQuery(args: readonly WireValue[]): string[] {
  if (args.length !== 1) throw new ValueError('search takes one argument: a tag or a list of tags');
  return checkTags(args[0], 'search');
}

/** The shape of a stored tensor, found without knowing the tensor layers; undefined for other objects. */
function shapeOf(obj: object): number[] | undefined {
  const s = (obj as { shape?: unknown }).shape;
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d)) ? [...(s as number[])] : undefined;
}

/**
 * The objects among `entries` that carry every tag of `query` (every tagged one for an empty
 * query), in store order, with their shapes, tags and descriptions. `visible` says which ids the
 * searcher may learn of (a serving worker shows a client its own objects and its owner's
 * published data only).
 */
export function searchObjects(
  entries: Iterable<[ObjectId, object]>,
  query: readonly string[],
  visible: (id: ObjectId) => boolean = () => true,
): Found[] {
  const out: Found[] = [];
  for (const [id, obj] of entries) {
    const m = metas.get(obj);
    if (!m || m.tags.length === 0 || !query.every((t) => m.tags.includes(t))) continue;
    const shape = shapeOf(obj);
    if (!shape || !visible(id)) continue;
    if (out.length >= MAX_FOUND) throw new ValueError(`more than ${MAX_FOUND} objects match [${query.join(', ')}]: search with more tags`);
    out.push({ id, shape, tags: [...m.tags], ...(m.description !== undefined ? { description: m.description } : {}) });
  }
  return out;
}

/** Checks a worker's answer to `search`; throws a ProtocolError for anything malformed. */
export function parseFound(found: WireValue, workerId: string): Found[] {
  if (!Array.isArray(found) || found.length > MAX_FOUND) throw new ProtocolError(`worker '${workerId}' answered a search with something that is not a list of found objects`);
  return found.map((f) => {
    const o = f as { id?: unknown; shape?: unknown; tags?: unknown; description?: unknown } | null;
    const shape = o?.shape;
    const ok =
      typeof o?.id === 'number' && Number.isSafeInteger(o.id) && o.id > 0 && Array.isArray(shape) && shape.length <= 16 &&
      shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
    if (!ok) throw new ProtocolError(`worker '${workerId}' answered a search with a malformed entry`);
    let tags: string[];
    try {
      if (o.tags !== undefined && !Array.isArray(o.tags)) throw new ValueError('tags must be a list');
      tags = o.tags === undefined ? [] : checkTags(o.tags);
      if (o.description !== undefined) checkDescription(o.description);
    } catch (e) {
      throw new ProtocolError(`worker '${workerId}' answered a search with bad tags: ${(e as Error).message}`);
    }
    return { id: o.id as number, shape: shape as number[], tags, ...(o.description !== undefined ? { description: o.description as string } : {}) };
  });
}
