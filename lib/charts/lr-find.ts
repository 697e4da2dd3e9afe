// lrFind(): fastai's learning-rate range test. Train for one short pass while the learning rate
// grows exponentially from startLr to endLr, record the (smoothed) loss at each step, stop when it
// diverges, then put the model back exactly as it was. The plot of loss against rate (log axis)
// shows where learning starts and where it blows up; a good rate lies on the steep descent, well
// before the minimum.
import * as tf from '@tensorflow/tfjs';
import { progressReporter, type Progress } from '../io/progress';
import { interruptible } from '../io/interrupt';
import { renderChart, withDefaults, type Chart, type ShowOption } from './render';
import { describeAs } from '../display';
import { getCompiled, makeOptimizer } from '../train/compile';
import { fit, type TrainSource } from '../train/loop';
import { runnerFor } from '../train/source';
import { planTrainableVariables } from '../train/graph';
import { frozenWeights } from '../models/saveload';
import type { Logs, TrainCallback, TrainContext } from '../train/types';

export interface LrFindOptions extends ShowOption {
  /** First learning rate (fastai default 1e-7). */
  startLr?: number;
  /** Last learning rate (fastai default 10). */
  endLr?: number;
  /** Number of steps (batches) of the ramp (fastai default 100); the dataset is repeated as needed. */
  iterations?: number;
  /** Stop once the smoothed loss exceeds this many times the best one (fastai: 4). */
  divergeFactor?: number;
  /** Smoothing of the loss: an exponential moving average with this beta, bias-corrected (fastai: 0.98). */
  beta?: number;
  title?: string;
}

export interface LrFindResult {
  /** Learning rate of each step taken. */
  lrs: number[];
  /** Smoothed loss after each step (what is plotted and what the suggestions read). */
  losses: number[];
  /** Raw batch loss of each step. */
  rawLosses: number[];
  /** fastai's lr_min: the rate at the lowest smoothed loss, divided by 10. */
  lrMin: number;
  /** fastai's lr_steep: the rate where the loss falls fastest (most negative slope against log rate). */
  lrSteep: number;
  /** True when the test stopped because the loss diverged (before `iterations` steps). */
  diverged: boolean;
  chart: Chart;
}

/** The rate at step i of n: start · (end/start)^(i/n), fastai's exponential schedule. */
export function exponentialLr(startLr: number, endLr: number, i: number, n: number): number {
  return startLr * Math.pow(endLr / startLr, i / n);
}

/**
 * fastai's suggestions from a recorded curve. Like fastai, the first tenth of the steps (the loss
 * has not moved yet) and the last five (the divergence) are left out when there are enough points.
 */
export function suggestLearningRates(
  lrs: number[],
  losses: number[],
): { lrMin: number; lrSteep: number } {
  const n = lrs.length;
  if (n < 2 || losses.length !== n)
    throw new Error(
      `suggestLearningRates: need at least 2 recorded steps with one loss each (got ${n} rates, ${losses.length} losses).`,
    );
  const skipStart = Math.floor(n / 10);
  const [from, to] = n - skipStart - 5 >= 3 ? [skipStart, n - 5] : [0, n];
  const idx = Array.from({ length: to - from }, (_, j) => from + j).filter((i) =>
    Number.isFinite(losses[i]),
  );
  if (idx.length < 2)
    throw new Error(
      'suggestLearningRates: the loss was not finite at any step; start at a lower learning rate.',
    );
  let best = idx[0];
  for (const i of idx) if (losses[i] < losses[best]) best = i;
  let steep = idx[0];
  let slope = Infinity;
  for (let j = 0; j + 1 < idx.length; j++) {
    const [a, b] = [idx[j], idx[j + 1]];
    const s = (losses[b] - losses[a]) / (Math.log(lrs[b]) - Math.log(lrs[a]));
    if (s < slope) [slope, steep] = [s, a];
  }
  return { lrMin: lrs[best] / 10, lrSteep: lrs[steep] };
}

const fmt = (v: number) => v.toExponential(1);

export interface LRFinderOptions {
  startLr?: number;
  endLr?: number;
  iterations?: number;
  divergeFactor?: number;
  beta?: number;
  /** Ticked once per step, with the rate and smoothed loss as its note. */
  progress?: Progress;
}

/**
 * fastai's LRFinder as a callback on the training loop: before each batch it sets the learning rate
 * of the step (exponential from startLr to endLr over `iterations` steps), after it records the
 * batch's loss and its smoothed value, and stops training when the smoothed loss diverges (above
 * divergeFactor × the best) or the steps are done. The weights that can change are copied at the
 * start and put back at the end (`restore()`, also after an interrupt or an error).
 */
export class LRFinder implements TrainCallback {
  readonly startLr: number;
  readonly endLr: number;
  readonly iterations: number;
  readonly divergeFactor: number;
  readonly beta: number;
  readonly lrs: number[] = [];
  readonly losses: number[] = [];
  readonly rawLosses: number[] = [];
  diverged = false;
  private avg = 0;
  private best = Infinity;
  private lr = 0;
  private saved: { variable: tf.LayerVariable; value: tf.Tensor }[] = [];

  constructor(private readonly opts: LRFinderOptions = {}) {
    this.startLr = opts.startLr ?? 1e-7;
    this.endLr = opts.endLr ?? 10;
    this.iterations = opts.iterations ?? 100;
    this.divergeFactor = opts.divergeFactor ?? 4;
    this.beta = opts.beta ?? 0.98;
    if (!(this.startLr > 0 && this.endLr > this.startLr))
      throw new Error(
        `lrFind: need 0 < startLr < endLr (got startLr=${this.startLr}, endLr=${this.endLr}).`,
      );
    if (!(Number.isInteger(this.iterations) && this.iterations >= 2))
      throw new Error(`lrFind: iterations must be an integer >= 2 (got ${this.iterations}).`);
    if (!(this.beta >= 0 && this.beta < 1))
      throw new Error(`lrFind: beta must be in [0, 1) (got ${this.beta}).`);
  }

  onTrainBegin(ctx: TrainContext): void {
    // Every weight that can change, batch-norm statistics included; a frozen layer's cannot.
    const frozen = frozenWeights(ctx.model);
    this.saved = ctx.model.weights
      .filter((w) => !frozen.has(w))
      .map((variable) => ({ variable, value: tf.clone(variable.read()) }));
  }

  onBatchBegin(_batch: number, ctx: TrainContext): void {
    this.lr = exponentialLr(this.startLr, this.endLr, this.lrs.length, this.iterations);
    ctx.learningRate = this.lr;
  }

  onBatchEnd(_batch: number, _logs: Logs, ctx: TrainContext): void {
    const loss = ctx.batchLogs.loss;
    this.avg = this.beta * this.avg + (1 - this.beta) * loss;
    const smooth = this.avg / (1 - Math.pow(this.beta, this.lrs.length + 1));
    this.lrs.push(this.lr);
    this.rawLosses.push(loss);
    this.losses.push(smooth);
    if (smooth < this.best) this.best = smooth;
    this.diverged = !Number.isFinite(smooth) || smooth > this.divergeFactor * this.best;
    this.opts.progress?.note(`lr ${fmt(this.lr)}, smoothed loss ${smooth.toFixed(4)}`);
    this.opts.progress?.update(this.lrs.length);
    if (this.diverged || this.lrs.length >= this.iterations) ctx.stopTraining = true;
  }

  onTrainEnd(): void {
    this.restore();
  }

  /** Put the weights back as they were before the test (once; later calls do nothing). */
  restore(): void {
    for (const { variable, value } of this.saved) {
      variable.write(value);
      value.dispose();
    }
    this.saved = [];
  }

  describeKept(): string {
    return "the model's weights as they were before lrFind";
  }
}

/**
 * fastai's learning-rate range test (`learn.lr_find()`) on a compiled model, from images or from
 * cached features (`cachedFeatures(...)`: then only the head trains, in seconds). It runs the normal
 * training loop (trainPhase's) with an LRFinder callback, as fastai's lr_find runs fit: the learning
 * rate grows exponentially from `startLr` to `endLr` over `iterations` training steps (the data
 * repeated as needed); the loss is smoothed (moving average, beta 0.98, bias-corrected) and the test
 * stops when it exceeds 4× the best. Afterwards the model's weights are restored, and the compiled
 * optimizer was never used (the test runs a fresh optimizer of the same kind), so training continues
 * as if nothing happened. Plots loss against learning rate on a log axis with the two suggestions marked.
 */
export async function lrFind(
  model: tf.LayersModel,
  dataset: TrainSource,
  opts: LrFindOptions = {},
): Promise<LrFindResult> {
  const compiled = getCompiled(model, 'lrFind');
  const iterations = opts.iterations ?? 100;
  const progress = progressReporter('lrFind', {
    total: iterations,
    unit: 'steps',
    enabled: opts.show !== false,
  });
  const finder = new LRFinder({ ...opts, iterations, progress });
  const runner = runnerFor(model, dataset, 'dataset');
  if (!planTrainableVariables(runner.plan).length)
    throw new Error(
      `lrFind: model "${model.name}" has no trainable weights after the data's starting point; unfreeze the head and compile again.`,
    );
  if (dataset.numBatches < 1)
    throw new Error('lrFind: the dataset has no batches; check that its folder has images.');
  const optimizer = makeOptimizer(compiled.optimizerSpec);
  const t0 = performance.now();
  try {
    await interruptible('lrFind', () =>
      fit(
        {
          model,
          train: dataset,
          epochs: Math.ceil(iterations / dataset.numBatches),
          callbacks: [finder],
          name: 'lrFind',
          verbose: 0,
          summary: false,
        },
        { compiled: { ...compiled, optimizer }, record: false },
      ),
    );
  } finally {
    finder.restore();
    optimizer.dispose();
  }
  const { lrs, losses, rawLosses, diverged } = finder;
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const why = diverged
    ? `stopped when the loss diverged at lr ${fmt(lrs[lrs.length - 1])}`
    : `up to lr ${fmt(lrs[lrs.length - 1])}`;
  progress.done(`${lrs.length} steps in ${seconds} s, ${why}; weights restored`);
  if (lrs.length < 2)
    throw new Error(
      `lrFind: the loss diverged at the first step (lr ${fmt(finder.startLr)}); pass a lower startLr.`,
    );
  const { lrMin, lrSteep } = suggestLearningRates(lrs, losses);
  const chart = lrFindChart(lrs, losses, { lrMin, lrSteep }, opts);
  return describeAs(
    { lrs, losses, rawLosses, lrMin, lrSteep, diverged, chart },
    (r) =>
      `[lrFind: ${r.lrs.length} steps; lrMin ${fmt(r.lrMin)}, lrSteep ${fmt(r.lrSteep)}; .lrs, .losses, .chart]`,
    { shown: opts.show !== false },
  );
}

/** Loss against learning rate on a log axis, the suggestions as labelled vertical rules. */
function lrFindChart(
  lrs: number[],
  losses: number[],
  s: { lrMin: number; lrSteep: number },
  opts: LrFindOptions,
): Chart {
  // fastai's plot leaves out the last five steps, where the loss shoots up and flattens the curve.
  const keep = lrs.length > 15 ? lrs.length - 5 : lrs.length;
  const rows = lrs
    .slice(0, keep)
    .map((lr, i) => ({ lr, loss: losses[i] }))
    .filter((r) => Number.isFinite(r.loss));
  const marks = [
    { lr: s.lrSteep, label: `steepest: ${fmt(s.lrSteep)}`, colour: '#2ca02c' },
    { lr: s.lrMin, label: `minimum/10: ${fmt(s.lrMin)}`, colour: '#d62728' },
  ];
  const x = {
    field: 'lr',
    type: 'quantitative',
    scale: { type: 'log' },
    axis: { title: 'learning rate (log scale)', format: '.0e' },
  };
  const spec = withDefaults({
    title: {
      text: opts.title ?? 'Learning-rate finder',
      subtitle: `${lrs.length} steps from ${fmt(lrs[0])}; smoothed training loss`,
    },
    width: 480,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', color: '#1f77b4' },
        encoding: {
          x,
          y: {
            field: 'loss',
            type: 'quantitative',
            // From 0, like every loss axis here (lib/charts/history-panel.ts): the drop reads at its size.
            scale: { zero: true },
            title: 'loss (smoothed)',
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x,
          color: {
            field: 'label',
            type: 'nominal',
            scale: { domain: marks.map((m) => m.label), range: marks.map((m) => m.colour) },
            legend: { title: 'suggested', orient: 'top-right' },
          },
        },
      },
    ],
  });
  const text =
    `Learning-rate finder: ${lrs.length} steps from ${fmt(lrs[0])} to ${fmt(lrs[lrs.length - 1])}; ` +
    `suggested lrSteep = ${fmt(s.lrSteep)}, lrMin (minimum/10) = ${fmt(s.lrMin)}`;
  return renderChart(spec, text, opts);
}
