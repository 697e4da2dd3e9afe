// compile(): optimizer, loss and metrics, with Keras names and defaults.
//
// We do not use tfjs' model.compile(): it has no label smoothing, no top-k metric, and its fit()
// cannot start from cached features. The compiled settings live beside the model (a WeakMap), the
// optimizer also on model.optimizer (where Keras keeps it; learningRate(model) reads its rate), and
// every compile() creates a fresh optimizer, as recompiling does in Keras.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from './adam';

// ---------------------------------------------------------------------------------------------
// Optimizers

export type OptimizerSpec =
  | { kind: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number }
  | { kind: 'sgd'; learningRate: number; momentum: number; nesterov: boolean }
  | { kind: 'rmsprop'; learningRate: number; rho: number; momentum: number; epsilon: number };

// Keras' defaults, named once: an option left out (or undefined) takes its Keras value.
const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const SGD_DEFAULTS = { learningRate: 0.01, momentum: 0, nesterov: false };
const RMSPROP_DEFAULTS = { rho: 0.9, momentum: 0, epsilon: 1e-7 };

function withDefaults<T extends object>(defaults: T, opts: Partial<T>): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) out[key] = opts[key] ?? defaults[key];
  return out;
}

// Every optimizer takes its options one way, as an object with Keras' names:
// adam({ learningRate: 1e-3 }), sgd({ learningRate: 0.01, momentum: 0.9 }), rmsprop({ learningRate }).
export type AdamOptions = Partial<typeof ADAM_DEFAULTS> & { learningRate?: number };
export type SgdOptions = Partial<typeof SGD_DEFAULTS>;
export type RmspropOptions = Partial<typeof RMSPROP_DEFAULTS> & { learningRate?: number };

/** Keras Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7). */
export function adam(opts: AdamOptions = {}): OptimizerSpec {
  checkOptions('adam', opts);
  return {
    kind: 'adam',
    learningRate: opts.learningRate ?? 0.001,
    ...withDefaults(ADAM_DEFAULTS, opts),
  };
}

/** Keras SGD(learning_rate=0.01, momentum=0.0, nesterov=False). */
export function sgd(opts: SgdOptions = {}): OptimizerSpec {
  checkOptions('sgd', opts);
  return { kind: 'sgd', ...withDefaults(SGD_DEFAULTS, opts) };
}

/** Keras RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7). */
export function rmsprop(opts: RmspropOptions = {}): OptimizerSpec {
  checkOptions('rmsprop', opts);
  return {
    kind: 'rmsprop',
    learningRate: opts.learningRate ?? 0.001,
    ...withDefaults(RMSPROP_DEFAULTS, opts),
  };
}

/** The positional form of earlier versions (adam(1e-3)) names the one form that works now. */
function checkOptions(name: string, opts: unknown): void {
  if (typeof opts !== 'object' || opts === null)
    throw new Error(
      `${name}(${JSON.stringify(opts)}): pass the options as an object, e.g. ${name}({ learningRate: ${typeof opts === 'number' ? opts : 0.001} }).`,
    );
}

/** The spec compile() uses for its `optimizer` option: a spec as given, a Keras name with its defaults. */
export function optimizerSpecOf(
  o: OptimizerSpec | 'adam' | 'sgd' | 'rmsprop' | undefined,
): OptimizerSpec | undefined {
  // Written without union narrowing on `o`: tslab compiles without strictNullChecks.
  const byName: Record<string, () => OptimizerSpec> = { adam, sgd, rmsprop };
  return typeof o === 'object' ? o : byName[(o as string | undefined) ?? 'adam']?.();
}

export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (!(spec.learningRate > 0))
    throw new Error(`compile: learningRate must be > 0 (got ${spec.learningRate}).`);
  switch (spec.kind) {
    case 'adam':
      return new FusedAdamOptimizer(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
    case 'sgd':
      return spec.momentum > 0
        ? tf.train.momentum(spec.learningRate, spec.momentum, spec.nesterov)
        : tf.train.sgd(spec.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, spec.rho, spec.momentum, spec.epsilon);
  }
}

/** The learning rate the optimizer will use for its next step. */
export function getLearningRate(opt: tf.Optimizer): number {
  return (opt as unknown as { learningRate: number }).learningRate;
}

/** Change the learning rate between steps (what ReduceLROnPlateau does). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  // SGD and Momentum keep a scalar tensor of the rate; their setter replaces it.
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

// ---------------------------------------------------------------------------------------------
// Losses

export type LossName = 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';

const EPSILON = 1e-7; // Keras backend.epsilon()

/**
 * Per-sample cross-entropy from integer labels, as Keras computes it on probabilities: normalise,
 * clip to [eps, 1-eps], -sum(y * log p). Label smoothing: y = y(1-s) + s/classes.
 */
export function crossEntropy(
  labels: tf.Tensor1D,
  yPred: tf.Tensor,
  opts: { labelSmoothing?: number; fromLogits?: boolean } = {},
): tf.Tensor1D {
  return tf.tidy(() => {
    const classes = yPred.shape[yPred.shape.length - 1]!;
    let yTrue: tf.Tensor = tf.oneHot(tf.cast(labels, 'int32'), classes).toFloat();
    const s = opts.labelSmoothing ?? 0;
    if (s > 0) yTrue = tf.add(tf.mul(yTrue, 1 - s), s / classes);
    let logP: tf.Tensor;
    if (opts.fromLogits) logP = tf.logSoftmax(yPred);
    else {
      const p = tf.div(yPred, tf.sum(yPred, -1, true));
      logP = tf.log(tf.clipByValue(p, EPSILON, 1 - EPSILON));
    }
    return tf.neg(tf.sum(tf.mul(yTrue, logP), -1)) as tf.Tensor1D;
  });
}

// ---------------------------------------------------------------------------------------------
// Metrics

export interface MetricSpec {
  /** The key in logs and History (Keras' default name). */
  name: string;
  /** For top-k metrics: k (used to label summaries, e.g. val_top3_acc). */
  k?: number;
  /** Per-sample values in [0, 1] (averaged over samples, as Keras' MeanMetricWrapper does). */
  fn(labels: tf.Tensor1D, yPred: tf.Tensor): tf.Tensor1D;
}

const accuracyMetric: MetricSpec = {
  name: 'accuracy',
  fn: (labels, yPred) =>
    tf.tidy(
      () => tf.equal(tf.argMax(yPred, -1), tf.cast(labels, 'int32')).toFloat() as tf.Tensor1D,
    ),
};

/**
 * Keras TopKCategoricalAccuracy(k): 1 when the true class is among the k highest scores. Ties count
 * in favour, as tf.math.in_top_k does: the true class is in the top k when fewer than k classes score
 * strictly higher.
 */
export function topKCategoricalAccuracy(k = 5, name = 'top_k_categorical_accuracy'): MetricSpec {
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`topKCategoricalAccuracy: k must be a positive integer (got ${k}).`);
  return {
    name,
    k,
    fn: (labels, yPred) =>
      tf.tidy(() => {
        const classes = yPred.shape[yPred.shape.length - 1]!;
        const target = tf.sum(
          tf.mul(yPred, tf.oneHot(tf.cast(labels, 'int32'), classes)),
          -1,
          true,
        );
        const higher = tf.sum(tf.greater(yPred, target).toFloat(), -1);
        return tf.less(higher, k).toFloat() as tf.Tensor1D;
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// compile()

export interface CompileOptions {
  /** An optimizer spec (adam({ learningRate: 1e-3 }), sgd({...})) or its Keras name with default settings. */
  optimizer?: OptimizerSpec | 'adam' | 'sgd' | 'rmsprop';
  loss?: LossName;
  /** Keras CategoricalCrossentropy(label_smoothing=...). Also accepted with the sparse loss. */
  labelSmoothing?: number;
  /** True when the model outputs logits (no softmax on the last layer). */
  fromLogits?: boolean;
  metrics?: Array<'accuracy' | 'acc' | MetricSpec>;
}

export interface Compiled {
  optimizerSpec: OptimizerSpec;
  optimizer: tf.Optimizer;
  loss: LossName;
  labelSmoothing: number;
  fromLogits: boolean;
  metrics: MetricSpec[];
}

const compiledModels = new WeakMap<tf.LayersModel, Compiled>();

/**
 * Keras model.compile(): choose optimizer, loss and metrics. Call it again after changing which
 * layers are trainable, as in Keras; each call starts a fresh optimizer (no carried-over moments).
 */
export function compile<M extends tf.LayersModel>(model: M, opts: CompileOptions = {}): M {
  const spec = optimizerSpecOf(opts.optimizer);
  if (!spec)
    throw new Error(
      `compile: unknown optimizer ${JSON.stringify(opts.optimizer)}; use adam({ learningRate }), sgd({ learningRate, momentum }) or rmsprop({ learningRate }).`,
    );
  const loss = opts.loss ?? 'categoricalCrossentropy';
  if (loss !== 'categoricalCrossentropy' && loss !== 'sparseCategoricalCrossentropy') {
    throw new Error(
      `compile: unknown loss "${loss}"; use 'categoricalCrossentropy' or 'sparseCategoricalCrossentropy'.`,
    );
  }
  const ls = opts.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls < 1))
    throw new Error(`compile: labelSmoothing must be in [0, 1) (got ${ls}).`);
  const metrics = (opts.metrics ?? []).map((m) => {
    if (m === 'accuracy') return accuracyMetric;
    if (m === 'acc') return { ...accuracyMetric, name: 'acc' };
    if (typeof m === 'object' && typeof m.fn === 'function') return m;
    throw new Error(
      `compile: unknown metric ${JSON.stringify(m)}; use 'accuracy' or topKCategoricalAccuracy(k).`,
    );
  });
  const names = new Set<string>();
  for (const m of metrics) {
    if (names.has(m.name) || m.name === 'loss')
      throw new Error(
        `compile: two metrics named "${m.name}"; pass a name to topKCategoricalAccuracy(k, name).`,
      );
    names.add(m.name);
  }
  compiledModels.get(model)?.optimizer.dispose();
  const optimizer = makeOptimizer(spec);
  // Where a Keras user looks (model.optimizer); tfjs does not own it, so model.dispose() leaves it.
  model.optimizer = optimizer;
  compiledModels.set(model, {
    optimizerSpec: spec,
    optimizer,
    loss,
    labelSmoothing: ls,
    fromLogits: opts.fromLogits ?? false,
    metrics,
  });
  return model;
}

/**
 * The compile settings as JSON, saved with a checkpoint so that loadCheckpoint returns the model
 * compiled as it was trained (Keras' load_model restores the compiled loss and metrics): the
 * optimizer spec at its current learning rate (after ReduceLROnPlateau), the loss, label smoothing,
 * from_logits, and the metrics by name (top-k with its k).
 */
export interface CompileSettings {
  optimizer: OptimizerSpec;
  loss: LossName;
  labelSmoothing: number;
  fromLogits: boolean;
  metrics: { name: string; k?: number }[];
}

export function compileSettings(model: tf.LayersModel): CompileSettings | null {
  const c = compiledModels.get(model);
  if (!c) return null;
  return {
    optimizer: { ...c.optimizerSpec, learningRate: getLearningRate(c.optimizer) },
    loss: c.loss,
    labelSmoothing: c.labelSmoothing,
    fromLogits: c.fromLogits,
    metrics: c.metrics.map((m) =>
      m.k === undefined ? { name: m.name } : { name: m.name, k: m.k },
    ),
  };
}

/** compile() from saved settings; a metric that is neither accuracy nor top-k is named and left out. */
export function compileFromSettings<M extends tf.LayersModel>(
  model: M,
  s: CompileSettings,
  source: string,
): M {
  const metrics: CompileOptions['metrics'] = [];
  for (const m of s.metrics) {
    if (m.k !== undefined) metrics.push(topKCategoricalAccuracy(m.k, m.name));
    else if (m.name === 'accuracy' || m.name === 'acc') metrics.push(m.name);
    else
      console.log(
        `${source}: metric "${m.name}" is not one this library can rebuild; compile the model again with it to see it.`,
      );
  }
  return compile(model, {
    optimizer: s.optimizer,
    loss: s.loss,
    labelSmoothing: s.labelSmoothing,
    fromLogits: s.fromLogits,
    metrics,
  });
}

export function getCompiled(model: tf.LayersModel, caller = 'trainPhase'): Compiled {
  const c = compiledModels.get(model);
  if (!c) {
    throw new Error(
      `${caller}: model "${model.name}" is not compiled. Call compile(model, { optimizer: adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] }) first.`,
    );
  }
  return c;
}

/**
 * Keras' `model.optimizer.learning_rate`: the rate the compiled model's next step uses (after
 * ReduceLROnPlateau, the reduced one). `model.optimizer` is the optimizer itself, as in Keras.
 */
export function learningRate(model: tf.LayersModel): number {
  return getLearningRate(getCompiled(model, 'learningRate').optimizer);
}

export function isCompiled(model: tf.LayersModel): boolean {
  return compiledModels.has(model);
}

/** A Keras l2(·) penalty on one weight: l2 · Σw², whose gradient is 2 · l2 · w. */
export interface L2Term {
  variable: tf.LayerVariable;
  l2: number;
}

/**
 * The model's penalties when every one is a plain L2 on a weight (Keras' kernel/bias l2(·)): the
 * training step then adds 2·l2·w to the gradients instead of differentiating Σw² (four passes over
 * each weight and its gradient). Null when some penalty is anything else: the step differentiates.
 */
export function l2Terms(model: tf.LayersModel): L2Term[] | null {
  const terms: L2Term[] = [];
  for (const layer of model.layers) {
    if (layer.losses.length === 0) continue;
    const l = layer as unknown as Record<string, unknown>;
    if (l.activityRegularizer) return null;
    let found = 0;
    for (const [reg, variable] of [
      [l.kernelRegularizer, l.kernel],
      [l.biasRegularizer, l.bias],
    ]) {
      if (!reg) continue;
      const r = reg as { getClassName?: () => string; l1?: number; l2?: number };
      if (r.getClassName?.() !== 'L1L2' || r.l1 !== 0 || !(variable instanceof tf.LayerVariable))
        return null;
      terms.push({ variable, l2: r.l2 ?? 0 });
      found++;
    }
    if (found !== layer.losses.length) return null;
  }
  return terms;
}

/** Sum of the layers' regularization penalties (Keras adds model.losses to the reported loss). */
export function regularizationLoss(model: tf.LayersModel): tf.Scalar | null {
  if (!model.layers.some((l) => l.losses.length > 0)) return null;
  return tf.tidy(() => tf.addN(model.calculateLosses().map((l) => l.asScalar())) as tf.Scalar);
}
