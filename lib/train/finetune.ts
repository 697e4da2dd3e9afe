// fineTune(): fastai's fine_tune for Keras models, both phases in one call. Phase 1 (optional): the
// base frozen, the head trained. Phase 2: unfreeze, freeze layers[:freezeUpTo] again, recompile at a
// lower rate and train on, the epoch numbering continuing so the two histories merge into one chart
// with the phase boundary marked. Notebook 02 shows the same steps one cell each.
//
// `epochs` follows Keras' fit, as trainPhase does: it is the epoch index to train up to, counted from
// the first epoch of the first phase (the Keras fine-tuning guide's
// `fit(epochs=total_epochs, initial_epoch=history.epoch[-1])`), so `headEpochs: 10, epochs: 20` is 10
// head epochs then 10 fine-tuning epochs (fewer head epochs when EarlyStopping ends phase 1 early).
import type * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { freeze, unfreeze } from '../models/freeze';
import type { History, TrainCallback } from './types';
import type { MimeBundle } from '../display';
import { compile, optimizerSpecOf, type CompileOptions } from './compile';
import { loadCheckpoint } from './checkpoint';
import { headBoundary } from './heads';
import { mergeHistories } from './history';
import { trainPhase, type TrainSource } from './loop';

/** A source, or a function that makes one for the prepared model (e.g. features cached at 'mixed8'). */
export type SourceFor =
  TrainSource | ((model: tf.LayersModel) => TrainSource | Promise<TrainSource>);

export interface FineTuneOptions {
  /** The model (a base with a head from buildHead), or the checkpoint of a trained head (loaded compiled). */
  from: tf.LayersModel | string;
  /**
   * Phase 1 trains the head with the base frozen for this many epochs: a count, hence not named
   * `epochs` (fastai's freeze_epochs; Keras' first fit, `fit(epochs=initial + headEpochs)`).
   * 0 (default): the head was trained before; pass its History as `previous`.
   */
  headEpochs?: number;
  /** Phase 2: model.trainable = True; for layer in model.layers[:freezeUpTo]: layer.trainable = False. Default 0: all train. */
  freezeUpTo?: number | string;
  /**
   * Loss, label smoothing, metrics and optimizer, e.g. { optimizer: adam({ learningRate: 1e-3 }),
   * loss: 'categoricalCrossentropy', metrics: ['accuracy'] }. With headEpochs, the optimizer's rate is
   * the head's; without, it is the fine-tuning rate (the walkthrough's Adam(5e-7)).
   */
  compile: CompileOptions;
  /** Phase 2's learning rate. Default: compile's rate / 10 after a head phase, compile's rate without one. */
  fineTuneLearningRate?: number;
  /** Keep every BatchNormalization of the base in inference mode in phase 2 (Keras' fine-tuning guide). Default false. */
  keepBatchNormFrozen?: boolean;
  /** Between the phases, continue from this checkpoint (the best head, e.g. ModelCheckpoint's tl_best.keras). */
  reloadBest?: string;
  /** Epochs trained before this call (the head phase run on its own): numbering continues, histories merge. */
  previous?: History;
  train: SourceFor;
  validation?: SourceFor;
  /** The epoch index phase 2 trains up to, counting every earlier epoch (Keras' total_epochs). */
  epochs: number;
  /** Used in both phases (EarlyStopping restarts per phase; ModelCheckpoint keeps its best, as in Keras). */
  callbacks?: TrainCallback[];
  /** Phase names in History, charts and the summaries. Default 'transfer learning' and 'fine-tuning'. */
  names?: { head?: string; fineTune?: string };
  verbose?: 0 | 1 | 2;
  stepsPerEpoch?: number;
  onEpochChart?: (h: History) => MimeBundle;
}

export interface FineTuneResult {
  model: tf.LayersModel;
  /** Every phase, with the boundaries in `phases`. */
  history: History;
  /** The fine-tuning phase alone. */
  phase: History;
}

async function resolve(
  s: SourceFor | undefined,
  model: tf.LayersModel,
): Promise<TrainSource | undefined> {
  return typeof s === 'function' ? s(model) : (s as TrainSource | ImageDataset | undefined);
}

/** The fine-tuning's settings: the same, at another learning rate. */
function withRate(c: CompileOptions, learningRate: number): CompileOptions {
  return { ...c, optimizer: { ...optimizerSpecOf(c.optimizer)!, learningRate } };
}

/**
 * fastai's fine_tune: train the head with the base frozen (`headEpochs`), then unfreeze, freeze
 * `layers[:freezeUpTo]`, recompile at a lower rate and train up to epoch `epochs`; returns the model,
 * the merged History and the fine-tuning phase's.
 */
export async function fineTune(opts: FineTuneOptions): Promise<FineTuneResult> {
  if (!optimizerSpecOf(opts.compile?.optimizer))
    throw new Error(
      `fineTune: compile.optimizer must be adam({ learningRate }), sgd({...}), rmsprop({...}) or one of their names (got ${JSON.stringify(opts.compile?.optimizer)}).`,
    );
  let model = typeof opts.from === 'string' ? await loadCheckpoint(opts.from) : opts.from;
  const headEpochs = opts.headEpochs ?? 0;
  const common = {
    callbacks: opts.callbacks,
    verbose: opts.verbose,
    stepsPerEpoch: opts.stepsPerEpoch,
  };
  const chart = (before: History | undefined) =>
    opts.onEpochChart
      ? (h: History) => opts.onEpochChart!(before ? mergeHistories(before, h) : h)
      : undefined;
  let previous = opts.previous;
  if (headEpochs > 0) {
    // Phase 1: Keras' base.trainable = False — every layer up to where buildHead attached the head.
    const boundary = headBoundary(model);
    const at = boundary === undefined ? -1 : model.layers.findIndex((l) => l.name === boundary);
    if (at < 0)
      throw new Error(
        `fineTune: model "${model.name}" has no head boundary (build it with buildHead(base, spec)), so the head phase cannot freeze the base; train the head yourself and pass previous instead of headEpochs.`,
      );
    unfreeze(model);
    freeze(model, { upTo: at + 1 });
    compile(model, opts.compile);
    const start = previous?.epochs.length
      ? previous.epochs[previous.epochs.length - 1].epoch + 1
      : 0;
    const head = await trainPhase({
      ...common,
      model,
      train: (await resolve(opts.train, model))!,
      validation: await resolve(opts.validation, model),
      initialEpoch: start,
      epochs: start + headEpochs,
      name: opts.names?.head ?? 'transfer learning',
      onEpochChart: chart(previous),
    });
    previous = previous ? mergeHistories(previous, head) : head;
    if (opts.reloadBest) model = await loadCheckpoint(opts.reloadBest);
  } else if (opts.reloadBest) model = await loadCheckpoint(opts.reloadBest);
  // Phase 2: unfreeze, freeze layers[:freezeUpTo], recompile at the lower rate.
  unfreeze(model);
  if (opts.freezeUpTo !== undefined && opts.freezeUpTo !== 0)
    freeze(model, { upTo: opts.freezeUpTo });
  if (opts.keepBatchNormFrozen) {
    const boundary = headBoundary(model);
    const end =
      boundary === undefined
        ? model.layers.length
        : model.layers.findIndex((l) => l.name === boundary) + 1;
    freeze(model, { upTo: end, ofClass: 'BatchNormalization' });
  }
  const rate =
    opts.fineTuneLearningRate ??
    (headEpochs > 0
      ? optimizerSpecOf(opts.compile.optimizer)!.learningRate / 10
      : optimizerSpecOf(opts.compile.optimizer)!.learningRate);
  compile(model, withRate(opts.compile, rate));
  const initialEpoch = previous?.epochs.length
    ? previous.epochs[previous.epochs.length - 1].epoch + 1
    : 0;
  if (!(opts.epochs > initialEpoch))
    throw new Error(
      `fineTune: epochs (${opts.epochs}) is the epoch index to train up to, as in Keras' fit, and must be greater than the ${initialEpoch} epoch(s) already done; for ${opts.epochs} more epochs pass epochs: ${initialEpoch + opts.epochs}.`,
    );
  const phase = await trainPhase({
    ...common,
    model,
    train: (await resolve(opts.train, model))!,
    validation: await resolve(opts.validation, model),
    initialEpoch,
    epochs: opts.epochs,
    name: opts.names?.fineTune ?? 'fine-tuning',
    onEpochChart: chart(previous),
  });
  return { model, phase, history: previous ? mergeHistories(previous, phase) : phase };
}
