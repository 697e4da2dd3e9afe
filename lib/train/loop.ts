// trainPhase(): Keras model.fit() for one phase, as a custom loop, and evaluateMetrics(): model.evaluate().
//
// A custom loop (rather than tfjs' fit) because it must: pass `training` to every layer (tfjs' apply
// drops it), run a frozen BatchNormalization in inference mode, start from cached features at a block
// boundary, change the learning rate between epochs, stop after any batch, and report progress per batch.
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import type { MimeBundle } from '../display';
import { forEachBatch, STOP } from '../io/batches';
import { interruptible, Interrupted } from '../io/interrupt';
import type { EpochLog, History, Logs, TrainCallback, TrainContext } from './types';
import {
  crossEntropy,
  getCompiled,
  getLearningRate,
  l2Terms,
  regularizationLoss,
  setLearningRate,
  type Compiled,
  type L2Term,
} from './compile';
import {
  planGraph,
  planLayers,
  planTrainableVariables,
  runPlan,
  splitAtTrainable,
  type GraphPlan,
} from './graph';
import { historySummary, formatValue } from './history';
import { PhaseProgress } from './progress';
import { checkBatchShape } from '../models/input-shape';
import { isFeatureDataset, type FeatureDataset } from './cache';

/** What trainPhase and evaluateMetrics read from: images, or features cached at a layer of the model. */
export type TrainSource = ImageDataset | FeatureDataset;

export interface TrainPhaseOptions {
  model: tf.LayersModel;
  train: TrainSource;
  validation?: TrainSource;
  /** Keras semantics: train until this epoch index (so epochs - initialEpoch epochs are run). */
  epochs: number;
  /** First epoch index (continue numbering after a previous phase, as Keras' initial_epoch). */
  initialEpoch?: number;
  callbacks?: TrainCallback[];
  /** Shown in progress, History phase marks and the summary (e.g. 'transfer learning', 'fine-tuning'). */
  name?: string;
  /** Keras verbose: 0 silent, 1 progress bar / live line (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Print the [Time]/[Best] summary at the end (default: when verbose > 0). */
  summary?: boolean;
  /** Stop each epoch after this many batches (quick runs; Keras steps_per_epoch). */
  stepsPerEpoch?: number;
  /** Live learning curve redrawn in place each epoch in a notebook (e.g. from lib/charts). */
  onEpochChart?: (h: History) => MimeBundle;
}

/** How to run a model on a source: the graph plan and the variables to train. */
export interface Runner {
  plan: GraphPlan;
  source: TrainSource;
}

function sourceName(s: TrainSource): string {
  if (isFeatureDataset(s)) return `cached features at "${s.boundary}"`;
  return s.files.length
    ? `dataset of ${s.size} images from ${s.files[0].replace(/[\\/][^\\/]*$/, '')}`
    : `dataset of ${s.size} images`;
}

export function runnerFor(model: tf.LayersModel, source: TrainSource, role: string): Runner {
  if (isFeatureDataset(source)) {
    source.assertMatches(model);
    checkClasses(model, source);
    return { plan: planGraph(model, { from: source.boundary }), source };
  }
  if (!source || typeof (source as ImageDataset).batches !== 'function') {
    throw new Error(
      `trainPhase: ${role} must be an ImageDataset (lib/data) or cached features (cachedFeatures(...)); got ${typeof source}.`,
    );
  }
  checkClasses(model, source);
  return { plan: planGraph(model), source };
}

/** The dataset and the model must agree on the number of classes (else one-hot rows would silently be zero). */
function checkClasses(model: tf.LayersModel, source: TrainSource): void {
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  const classes = source.classNames.length;
  if (units !== null && classes > 0 && units !== classes) {
    throw new Error(
      `Model "${model.name}" outputs ${units} classes but the ${sourceName(source)} has ${classes} ` +
        `(${source.classNames.slice(0, 4).join(', ')}${classes > 4 ? ', …' : ''}). Build the head with ${classes} classes, e.g. HEADS.vgg16Gtsrb({ classes: ${classes} }).`,
    );
  }
}

export function checkInputShape(plan: GraphPlan, xs: tf.Tensor, source: TrainSource): void {
  const want = plan.feeds[0].shape.slice(1);
  // Images: one message that names the loaders' size options (lib/models/input-shape).
  if (!isFeatureDataset(source)) return checkBatchShape(want, xs, '', plan.model.name);
  const got = xs.shape.slice(1);
  if (want.some((d, i) => d !== null && d !== got[i]) || want.length !== got.length) {
    throw new Error(
      `The model "${plan.model.name}" expects inputs of shape [${want.map((d) => d ?? 'any')}] but the ${sourceName(source)} ` +
        `gives [${got}]: the features were cached from another model. Call cachedFeatures(model, dataset) for this one.`,
    );
  }
}

function lossOf(
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

function evalStep(r: Runner, c: Compiled, xs: tf.Tensor, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const out = runPlan(r.plan, [xs], false)[0];
    const ms = c.metrics.map((m) => tf.mean(m.fn(labels, out)));
    return tf.stack([lossOf(c, r.plan.model, labels, out), ...ms]) as tf.Tensor1D;
  });
}

/** Sample-weighted running means, as Keras aggregates batch values into epoch values. */
class Averager {
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

async function evaluateRunner(r: Runner, c: Compiled, prefix: string): Promise<Logs> {
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

/**
 * Keras model.fit() for one phase: trains `model` (as compiled) on `train`, validates on `validation`
 * after each epoch, runs the callbacks, shows progress, and returns this phase's History (epochs
 * numbered from initialEpoch, one phase mark). Prints the total time, average per epoch and the best
 * epoch by val_loss with its metrics.
 *
 * With cached features (cachedFeatures(...)) only the layers after the cache's boundary run; the
 * layers before it must be frozen (checked).
 */
export async function trainPhase(opts: TrainPhaseOptions): Promise<History> {
  return fit(opts);
}

/** The last training phase started in this process: kept when its cell is interrupted or fails. */
export interface LastRun {
  /** The phase's name. */
  name: string;
  model: tf.LayersModel;
  /** The epochs finished so far (the same object the phase returns when it ends). */
  history: History;
  /** 'running', 'finished', 'interrupted' (Jupyter's ■) or 'failed' (an error; see `error`). */
  state: 'running' | 'finished' | 'interrupted' | 'failed';
  error?: Error;
  /** What the callbacks kept (checkpoints), as in the interrupt line. */
  kept: string[];
}

let lastRunRecord: LastRun | null = null;

/**
 * The last training phase of this kernel, finished or not. tslab forgets every name declared in a
 * cell that is interrupted or fails (`const history = await nb.trainPhase(...)` never gets its value),
 * so the phase is kept here: `nb.lastRun().history` holds the epochs it finished, `.model` the model.
 */
export function lastRun(): LastRun | null {
  return lastRunRecord;
}

/** Internal settings of a run: the LR finder trains with its own optimizer and leaves lastRun alone. */
export interface FitInternals {
  compiled?: Compiled;
  record?: boolean;
}

/** trainPhase's body; `internal` is for the library's own runs on the loop (lrFind). */
export async function fit(opts: TrainPhaseOptions, internal: FitInternals = {}): Promise<History> {
  const { model } = opts;
  const c = internal.compiled ?? getCompiled(model);
  const initialEpoch = opts.initialEpoch ?? 0;
  const verbose = opts.verbose ?? 1;
  const name = opts.name ?? 'training';
  if (!(Number.isInteger(opts.epochs) && opts.epochs > initialEpoch)) {
    throw new Error(
      `trainPhase: epochs (${opts.epochs}) must be an integer greater than initialEpoch (${initialEpoch}): as in Keras' fit, epochs is the index to train up to, initialEpoch + the number of epochs to run.`,
    );
  }
  const train = runnerFor(model, opts.train, 'train');
  const validation = opts.validation ? runnerFor(model, opts.validation, 'validation') : null;
  if (isFeatureDataset(opts.train)) {
    const bottom = planGraph(model, { to: opts.train.boundary });
    const open = planLayers(bottom).filter((l) => l.trainableWeights.length > 0);
    if (open.length) {
      throw new Error(
        `trainPhase: features are cached at "${opts.train.boundary}" but layer(s) ${open
          .slice(0, 3)
          .map((l) => `"${l.name}"`)
          .join(', ')} before it ` +
          `are trainable, so the cache would go stale. Freeze them (freeze(model, { upTo })) or cache at a later layer.`,
      );
    }
  }
  const step = stepPlanFor(train.plan);
  if (step.vars.length === 0) {
    throw new Error(
      `trainPhase: model "${model.name}" has no trainable weights (every layer is frozen). Unfreeze the head or the top layers, then compile again.`,
    );
  }
  const names = ['loss', ...c.metrics.map((m) => m.name)];
  const steps = Math.min(opts.train.numBatches, opts.stepsPerEpoch ?? Infinity);
  const callbacks = opts.callbacks ?? [];
  const history: History = { epochs: [], phases: [{ name, startEpoch: 0 }] };
  const run: LastRun = { name, model, history, state: 'running', kept: [] };
  if (internal.record !== false) lastRunRecord = run;
  const progress = new PhaseProgress({
    phase: name,
    epochs: opts.epochs,
    initialEpoch,
    steps,
    verbose,
    onEpochChart: opts.onEpochChart,
  });
  model.stopTraining = false;
  let batchLogs: Logs = {};
  const ctx: TrainContext = {
    model,
    phase: name,
    params: { epochs: opts.epochs, initialEpoch, steps },
    history,
    get batchLogs() {
      return batchLogs;
    },
    get learningRate() {
      return getLearningRate(c.optimizer);
    },
    set learningRate(lr: number) {
      setLearningRate(c.optimizer, lr);
    },
    get stopTraining() {
      return model.stopTraining;
    },
    set stopTraining(v: boolean) {
      model.stopTraining = v;
    },
    log: (m) => (verbose > 0 ? progress.message(m) : undefined),
  };
  let epoch = initialEpoch;
  // What survives an interrupt, said at the moment it comes (see lib/io/interrupt.ts): the partial
  // epoch is left out of the History, the CSV log and the checkpoints (they stay at the last
  // finished epoch), and the model keeps the weights of its last batch.
  const kept = () => {
    const done = history.epochs.length;
    run.kept = callbacks.map((cb) => cb.describeKept?.()).filter((k): k is string => !!k);
    const reached = `epoch ${epoch + 1}/${opts.epochs} reached, ${done} finished epoch(s) in nb.lastRun().history`;
    return [...(internal.record === false ? [] : [reached]), ...run.kept].join('; ');
  };

  // The phase's one time, from its first callback to its last: stored in its History mark (what
  // historySeconds and the tables read), drawn at the end of the progress line and printed by the
  // [Time] summary line, so the three show one number.
  const phaseStart = performance.now();
  try {
    await interruptible(
      `${name} (trainPhase)`,
      async () => {
        for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
        let lastLogs: Logs | undefined;
        for (; epoch < opts.epochs; epoch++) {
          const t0 = performance.now();
          const lr = ctx.learningRate;
          progress.epochBegin(epoch);
          for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
          const avg = new Averager(names);
          const e = epoch;
          await forEachBatch(train.source.batches({ epoch }), async (b, batch) => {
            for (const cb of callbacks) await cb.onBatchBegin?.(batch, ctx);
            const labels = tf.tensor1d(b.labels, 'int32');
            let out: tf.Tensor1D | undefined;
            try {
              if (batch === 0) checkInputShape(train.plan, b.xs, train.source);
              out = trainStep(step, c, b.xs, labels);
              const values = await out.data();
              avg.add(values, b.labels.length);
              batchLogs = Object.fromEntries(names.map((k, i) => [k, values[i]]));
            } finally {
              tf.dispose([labels, out as tf.Tensor]);
            }
            const logs = avg.logs();
            progress.batch(e, batch, logs);
            for (const cb of callbacks) await cb.onBatchEnd?.(batch, logs, ctx);
            return ctx.stopTraining || batch + 1 >= steps ? STOP : undefined;
          });
          let logs = avg.logs();
          if (validation) logs = { ...logs, ...(await evaluateRunner(validation, c, 'val_')) };
          const seconds = (performance.now() - t0) / 1000;
          const entry: EpochLog = { epoch, lr, seconds, metrics: { ...logs } };
          history.epochs.push(entry);
          lastLogs = { ...logs, lr };
          progress.epochEnd(epoch, lastLogs, seconds, history);
          for (const cb of callbacks) await cb.onEpochEnd?.(epoch, { ...lastLogs }, ctx);
          if (ctx.stopTraining) break;
        }
        for (const cb of callbacks) await cb.onTrainEnd?.(lastLogs, ctx);
      },
      { kept },
    );
    run.state = 'finished';
  } catch (e) {
    run.state = e instanceof Interrupted ? 'interrupted' : 'failed';
    if (!(e instanceof Interrupted)) run.error = e as Error;
    throw e;
  } finally {
    history.phases[0].seconds = (performance.now() - phaseStart) / 1000;
    progress.close(history.phases[0].seconds, history.epochs.length, run.state === 'finished');
  }
  if (opts.summary ?? verbose > 0) {
    const topK = c.metrics.find((m) => m.k !== undefined)?.k;
    console.log(historySummary(history, { topK }));
  }
  return history;
}
