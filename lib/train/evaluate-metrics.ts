// Keras model.evaluate(): loss and the compiled metrics on a dataset or on cached features, as
// trainPhase validates after each epoch (the same evaluation step and batch loop).
import * as tf from '@tensorflow/tfjs';
import { forEachBatch } from '../io/batches';
import { interruptible } from '../io/interrupt';
import type { Logs } from './types';
import { getCompiled, type Compiled } from './compile';
import { runPlan } from './graph';
import { formatValue } from './history';
import { checkInputShape, runnerFor, type Runner, type TrainSource } from './source';
import { Averager, lossOf } from './step';

/** One evaluation step (inference mode); returns [loss, ...metrics] for the batch. */
function evalStep(r: Runner, c: Compiled, xs: tf.Tensor, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const out = runPlan(r.plan, [xs], false)[0];
    const ms = c.metrics.map((m) => tf.mean(m.fn(labels, out)));
    return tf.stack([lossOf(c, r.plan.model, labels, out), ...ms]) as tf.Tensor1D;
  });
}

/** Epoch logs of a whole source (keys prefixed, e.g. 'val_'), for evaluateMetrics and validation. */
export async function evaluateRunner(r: Runner, c: Compiled, prefix: string): Promise<Logs> {
  const avg = new Averager(['loss', ...c.metrics.map((m) => m.name)]);
  await forEachBatch(r.source.batches(), async (b, i) => {
    const labels = tf.tensor1d(b.labels, 'int32');
    let out: tf.Tensor1D | undefined;
    try {
      if (i === 0) checkInputShape(r.plan, b.xs, r.source);
      out = evalStep(r, c, b.xs, labels);
      avg.add(await out.data(), b.labels.length);
    } finally {
      tf.dispose([labels, out as tf.Tensor]);
    }
  });
  return avg.logs(prefix);
}

/**
 * Keras model.evaluate(): loss (with regularization penalties) and the compiled metrics on a
 * dataset or on cached features. On an untrained head this is the walkthroughs' baseline (accuracy ≈
 * 1/classes, loss ≈ ln(classes)). Returns Keras' logs ({ loss, accuracy, ... }), hence the name;
 * lib/evaluate's evaluateWithPredictions() adds every image's prediction (reports, grids).
 */
export async function evaluateMetrics(
  model: tf.LayersModel,
  dataset: TrainSource,
  opts: { verbose?: 0 | 1 } = {},
): Promise<Logs> {
  const c = getCompiled(model, 'evaluateMetrics');
  const runner = runnerFor(model, dataset, 'dataset');
  const logs = await interruptible('evaluateMetrics', () => evaluateRunner(runner, c, ''));
  if ((opts.verbose ?? 1) > 0)
    console.log(
      `[Evaluate] ${Object.entries(logs)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' | ')}`,
    );
  return logs;
}
