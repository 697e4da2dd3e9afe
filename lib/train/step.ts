// One step of a compiled model on one batch: the training step (the frozen part off the gradient
// tape, plain L2 penalties outside it), Keras' train_on_batch, and the sample-weighted means that
// turn batch values into an epoch's logs. trainPhase's loop (./loop.ts) and evaluateMetrics
// (./evaluate-metrics.ts) run these.
import * as tf from '@tensorflow/tfjs';
import type { Logs } from './types';
import {
  crossEntropy,
  getCompiled,
  l2Terms,
  regularizationLoss,
  type Compiled,
  type L2Term,
} from './compile';
import {
  planGraph,
  planTrainableVariables,
  runPlan,
  splitAtTrainable,
  type GraphPlan,
} from './graph';

/** The batch's mean cross-entropy as compiled, plus the model's regularization penalties (unless null). */
export function lossOf(
  c: Compiled,
  model: tf.LayersModel | null,
  labels: tf.Tensor1D,
  out: tf.Tensor,
): tf.Scalar {
  let loss = tf.mean(
    crossEntropy(labels, out, { labelSmoothing: c.labelSmoothing, fromLogits: c.fromLogits }),
  ) as tf.Scalar;
  const reg = model && regularizationLoss(model);
  if (reg) loss = tf.add(loss, reg);
  return loss;
}

/** Keras' L2 penalties outside the tape: their value joins the loss, 2·l2·w joins each gradient. */
function addL2(terms: L2Term[], loss: tf.Scalar, grads: tf.NamedTensorMap): tf.Scalar {
  if (terms.length === 0) return loss;
  const penalties = terms.map(({ variable, l2 }) => {
    const w = variable.read() as tf.Variable; // a LayerVariable reads as its tf.Variable
    const g = grads[w.name];
    if (g) grads[w.name] = tf.add(g, tf.mul(w, 2 * l2));
    return tf.mul(tf.sum(tf.square(w)), l2);
  });
  return tf.addN([loss, ...penalties]) as tf.Scalar;
}

/** What one training step runs: the frozen bottom off the gradient tape, the rest on it. */
export interface StepPlan {
  frozen: GraphPlan;
  trainable: GraphPlan;
  vars: tf.Variable[];
  /** The trainable part's penalties when all are plain L2 (added outside the tape), else null. */
  l2: L2Term[] | null;
}

export function stepPlanFor(plan: GraphPlan): StepPlan {
  const parts = splitAtTrainable(plan);
  return { ...parts, vars: planTrainableVariables(plan), l2: l2Terms(parts.trainable.model) };
}

/** One optimizer step; returns [loss, ...metrics] for the batch. */
export function trainStep(
  p: StepPlan,
  c: Compiled,
  xs: tf.Tensor,
  labels: tf.Tensor1D,
): tf.Tensor1D {
  let preds: tf.Tensor | undefined;
  try {
    return tf.tidy(() => {
      // The frozen layers run as a constant input to the trainable ones: nothing of theirs is
      // recorded, and their activations are freed as soon as the boundary tensors exist.
      const boundary = tf.tidy(() => runPlan(p.frozen, [xs], true));
      const taped = tf.variableGrads(() => {
        const out = runPlan(p.trainable, boundary, true)[0];
        preds = tf.keep(out);
        return lossOf(c, p.l2 ? null : p.trainable.model, labels, out);
      }, p.vars);
      const grads = taped.grads;
      const value = p.l2 ? addL2(p.l2, taped.value, grads) : taped.value;
      c.optimizer.applyGradients(grads);
      const ms = c.metrics.map((m) => tf.mean(m.fn(labels, preds!)));
      return tf.stack([value, ...ms]) as tf.Tensor1D;
    });
  } finally {
    preds?.dispose();
  }
}

/**
 * Keras model.train_on_batch(): one optimizer step of the compiled model on one batch of images (or
 * of features cached at layer `from`), walking the graph as trainPhase does. Returns [loss, ...metrics].
 */
export async function trainOnBatch(
  model: tf.LayersModel,
  xs: tf.Tensor,
  labels: ArrayLike<number>,
  opts: { from?: string } = {},
): Promise<number[]> {
  const c = getCompiled(model, 'trainOnBatch');
  const p = stepPlanFor(planGraph(model, { from: opts.from }));
  if (p.vars.length === 0)
    throw new Error(
      `trainOnBatch: model "${model.name}" has no trainable weights (every layer is frozen).`,
    );
  const l = tf.tensor1d(Array.from(labels), 'int32');
  let out: tf.Tensor1D | undefined;
  try {
    out = trainStep(p, c, xs, l);
    return Array.from(await out.data());
  } finally {
    tf.dispose([l, out as tf.Tensor]);
  }
}

/** Sample-weighted running means, as Keras aggregates batch values into epoch values. */
export class Averager {
  private sums: number[] = [];
  private n = 0;
  constructor(private readonly names: string[]) {}
  add(values: ArrayLike<number>, count: number): void {
    for (let i = 0; i < this.names.length; i++)
      this.sums[i] = (this.sums[i] ?? 0) + values[i] * count;
    this.n += count;
  }
  logs(prefix = ''): Logs {
    const out: Logs = {};
    this.names.forEach((k, i) => (out[prefix + k] = this.n ? this.sums[i] / this.n : NaN));
    return out;
  }
}
