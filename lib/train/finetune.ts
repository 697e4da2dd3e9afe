// Phase 2 of the InceptionV3 walkthrough in one call: load the best transfer-learning checkpoint,
// unfreeze the model, freeze layers[:upTo], recompile with a tiny learning rate, and continue the
// epoch numbering so the two histories merge into one chart with the phase boundary marked.
import type * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types';
import { freeze, unfreeze } from '../models/freeze';
import type { History } from './types';
import type { MimeBundle } from '../display';
import { compile, type CompileOptions } from './compile';
import { loadCheckpoint } from './checkpoint';
import { mergeHistories } from './history';
import { trainPhase, type TrainSource } from './loop';
import type { TrainCallback } from './types';

/** A source, or a function that makes one for the prepared model (e.g. features cached at 'mixed8'). */
export type SourceFor =
  TrainSource | ((model: tf.LayersModel) => TrainSource | Promise<TrainSource>);

export interface FineTuneOptions {
  /** The transfer-learning model, or the checkpoint it was saved to (Keras load_model('tl_best.keras')). */
  from: tf.LayersModel | string;
  /** Keras: model.trainable = True; for layer in model.layers[:freezeUpTo]: layer.trainable = False. */
  freezeUpTo: number | string;
  /** E.g. { optimizer: adam(5e-7), loss: 'categoricalCrossentropy', labelSmoothing: 0.1, metrics: [...] }. */
  compile: CompileOptions;
  /** The first phase's History: epochs continue after it and the returned history merges both. */
  previous?: History;
  train: SourceFor;
  validation?: SourceFor;
  /** Number of fine-tuning epochs (Keras' fit(epochs=150) of the second phase). */
  epochs: number;
  callbacks?: TrainCallback[];
  name?: string;
  verbose?: 0 | 1 | 2;
  stepsPerEpoch?: number;
  onEpochChart?: (h: History) => MimeBundle;
}

export interface FineTuneResult {
  model: tf.LayersModel;
  /** Both phases, with the boundary in `phases`. */
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

/** Load (or take) the model, freeze layers[:freezeUpTo], recompile, train, merge histories. */
export async function fineTune(opts: FineTuneOptions): Promise<FineTuneResult> {
  const model = typeof opts.from === 'string' ? await loadCheckpoint(opts.from) : opts.from;
  unfreeze(model);
  freeze(model, { upTo: opts.freezeUpTo });
  compile(model, opts.compile);
  const previous = opts.previous;
  const initialEpoch = previous?.epochs.length
    ? previous.epochs[previous.epochs.length - 1].epoch + 1
    : 0;
  const phase = await trainPhase({
    model,
    train: (await resolve(opts.train, model))!,
    validation: await resolve(opts.validation, model),
    initialEpoch,
    epochs: initialEpoch + opts.epochs,
    callbacks: opts.callbacks,
    name: opts.name ?? 'fine-tuning',
    verbose: opts.verbose,
    stepsPerEpoch: opts.stepsPerEpoch,
    onEpochChart: opts.onEpochChart
      ? (h) => opts.onEpochChart!(previous ? mergeHistories(previous, h) : h)
      : undefined,
  });
  return { model, phase, history: previous ? mergeHistories(previous, phase) : phase };
}
