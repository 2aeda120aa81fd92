/**
 * `federatedAvg`: the mean of the parameters of several copies of one model, as PySyft 0.2's
 * `utils.federated_avg` — the averaging step of a federated round run by hand (train a copy per
 * worker, bring or move the copies together, average).
 *
 * The models are left as they are; the result is a new model (a copy of the first, with the
 * averaged parameters). They must all be local, or all on one worker (where the averaging then
 * runs, so the parameters never come here). PySyft 0.2.9's version also adds the parameters of a
 * freshly constructed model into the sum it divides (a side effect of removing its in-place
 * update); this one averages exactly the models given.
 */
import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../tensors/autograd.js';
import { tidy } from '../tensors/scope.js';

function modelList<M extends Module>(models: readonly M[] | ReadonlyMap<unknown, M> | Readonly<Record<string, M>>): M[] {
  if (Array.isArray(models)) return [...models];
  if (models instanceof Map) return [...models.values()];
  if (models !== null && typeof models === 'object') return Object.values(models as Record<string, M>);
  throw new ValueError('federatedAvg takes models: an array, a Map or an object of them');
}

function place(p: Tensor): string {
  return p.location ? `'${p.location.id}'` : 'here (local)';
}

/**
 * The model whose every parameter is the mean of the models' parameters (PySyft's
 * `federated_avg`: sum, then times 1 / n). Models may be given as an array, a Map or an object
 * (PySyft takes a dict), and must be copies of one architecture: same class, same parameter
 * names and shapes.
 *
 * @example
 * ```ts
 * const bobs = model.copy().send(bob), alices = model.copy().send(alice);
 * // ... train both, then bring them to one place:
 * bobs.move(secureWorker); alices.move(secureWorker);
 * const averaged = sy.federated.federatedAvg([bobs, alices]);   // on secureWorker
 * ```
 */
export function federatedAvg<M extends Module>(models: readonly M[] | ReadonlyMap<unknown, M> | Readonly<Record<string, M>>): M {
  const list = modelList(models);
  if (list.length === 0) throw new ValueError('federatedAvg needs at least one model');
  const first = list[0]!;
  list.forEach((m, i) => {
    if (typeof (m as Partial<Module>)?.namedParameters !== 'function') throw new ValueError(`model ${i} is not a sy.nn.Module`);
    if (m.constructor !== first.constructor) {
      throw new ValueError(`model ${i} is a ${m.constructor.name} and model 0 a ${first.constructor.name}: federatedAvg averages copies of one model`);
    }
  });
  const params = list.map((m) => m.namedParameters());
  const names = params[0]!.map(([name]) => name);
  if (names.length === 0) throw new ValueError('the models have no parameters to average');
  const where = place(params[0]![0]![1]);
  params.forEach((ps, i) => {
    const mine = ps.map(([name]) => name);
    if (mine.join('\n') !== names.join('\n')) {
      throw new ValueError(`model ${i} has the parameters [${mine.join(', ')}] and model 0 [${names.join(', ')}]: federatedAvg averages copies of one model`);
    }
    ps.forEach(([name, p], k) => {
      const ref = params[0]![k]![1];
      if (p.shape.join(',') !== ref.shape.join(',')) {
        throw new ValueError(`${name} is [${p.shape.join(', ')}] in model ${i} and [${ref.shape.join(', ')}] in model 0: the models differ in shape`);
      }
      if (place(p) !== where) {
        throw new ValueError(
          `${name} of model ${i} is ${place(p)} and the parameters of model 0 are ${where}: bring the models to one place first ` +
            '(move() them to one worker, or get() them)',
        );
      }
    });
  });
  const out = first.copy();
  const targets = out.parameters();
  const scale = 1 / list.length;
  tidy(() =>
    noGrad(() => {
      names.forEach((_, k) => {
        let sum = params[0]![k]![1].data;
        for (let i = 1; i < list.length; i++) sum = sum.add(params[i]![k]![1].data);
        targets[k]!.data = sum.mul(scale);
      });
    }),
  );
  return out;
}
