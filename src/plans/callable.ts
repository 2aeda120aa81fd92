/**
 * Plans are called like functions, as in PySyft (`plan(x)`, `pointerPlan(ptr)`), and are also
 * objects with methods and fields. A constructor returns a function whose prototype is the
 * class's, so `instanceof`, methods and a subclass's fields all work on it.
 *
 * A class built on this must not use field initializers or #private fields of its own (they
 * would land on the object the constructor discards); subclasses may use plain fields freely.
 */

/** A function object with prototype `proto`, calling `call(self, args)`. */
export function callableInstance<T extends object>(proto: object, call: (self: T, args: unknown[]) => unknown): T {
  const f = function (...args: unknown[]) {
    return call(f as unknown as T, args);
  };
  // A function's own `name` and `length` would hide the class's.
  delete (f as { name?: string }).name;
  delete (f as { length?: number }).length;
  Object.setPrototypeOf(f, proto);
  return f as unknown as T;
}
