// trainPhase(): Keras model.fit() for one phase, as a custom loop; lastRun(): the phase an interrupt
// or an error left behind.
//
// A custom loop (rather than tfjs' fit) because it must: pass `training` to every layer (tfjs' apply
// drops it), run a frozen BatchNormalization in inference mode, start from cached features at a block
// boundary, change the learning rate between epochs, stop after any batch, and report progress per batch.
// Its parts: what it reads from (./source.ts), one step on one batch (./step.ts), validation
// (./evaluate-metrics.ts), progress (./progress.ts) and the summary (./history.ts).
import * as tf from '@tensorflow/tfjs';
import type { MimeBundle } from '../display';
import { forEachBatch, STOP } from '../io/batches';
import { interruptible, Interrupted } from '../io/interrupt';
import type { EpochLog, History, Logs, TrainCallback, TrainContext } from './types';
import { getCompiled, getLearningRate, setLearningRate, type Compiled } from './compile';
import { planGraph, planLayers } from './graph';
import { historySummary } from './history';
import { PhaseProgress } from './progress';
import { isFeatureDataset } from './cache';
import { checkInputShape, runnerFor, type TrainSource } from './source';
import { Averager, stepPlanFor, trainStep } from './step';
import { evaluateRunner } from './evaluate-metrics';

// The notebooks' entry point (lib/index.ts) takes Keras' fit and evaluate from here.
export { evaluateMetrics } from './evaluate-metrics';
export type { TrainSource } from './source';

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
  const metricK = Object.fromEntries(
    c.metrics.flatMap((m) => (m.k === undefined ? [] : [[m.name, m.k] as const])),
  );
  const history: History = {
    epochs: [],
    phases: [{ name, startEpoch: 0 }],
    // Charts name the k ("top-3 accuracy"): the logged key does not carry it.
    ...(Object.keys(metricK).length ? { metricK } : {}),
  };
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
