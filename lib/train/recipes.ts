// The training settings of the five walkthroughs (../shared/seeds), as data: image size, batch size,
// compile options, epochs, callbacks and the fine-tuning step. A notebook picks one and may override
// any field; the values here are the walkthroughs' own.
import * as path from 'node:path';
import { adam, topKCategoricalAccuracy, type CompileOptions } from './compile';
import { CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, type TrainCallback } from './callbacks';
import { HEADS, type HeadSpec } from './heads';

export interface FineTuneRecipe {
  /** Layers kept frozen in the combined model, Keras `model.layers[:upTo]` (base indices are kept by buildHead). */
  freezeUpTo: number;
  /** Or: the number of base layers unfrozen at the end of the base (`base.layers[-lastN:]`). */
  unfreezeLastBaseLayers?: number;
  compile: CompileOptions;
  epochs: number;
}

export interface Recipe {
  base: 'vgg16' | 'resnet50' | 'inceptionV3';
  imageSize: [number, number];
  batchSize: number;
  seed: number;
  head: () => HeadSpec;
  /** Layers frozen in the first phase (Keras model.layers[:n]); default: the whole base. */
  freezeUpTo?: number;
  compile: CompileOptions;
  epochs: number;
  /** The walkthrough's callbacks, writing into `dir` (checkpoint tl_best.keras, log train_log.csv). */
  callbacks: (dir: string) => TrainCallback[];
  fineTune?: FineTuneRecipe;
}

const carsCompile = (lr: number, top3: boolean): CompileOptions => ({
  optimizer: adam(lr),
  loss: 'categoricalCrossentropy',
  labelSmoothing: 0.1,
  metrics: top3 ? ['accuracy', topKCategoricalAccuracy(3)] : ['accuracy'],
});

/** The cars walkthroughs' four callbacks; they differ only in patience, minDelta and the LR factor. */
function carsCallbacks(dir: string, o: { patience: number; minDelta: number; factor: number }): TrainCallback[] {
  return [
    new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: o.patience, minDelta: o.minDelta, restoreBestWeights: true }),
    new ReduceLROnPlateau({ monitor: 'val_loss', mode: 'min', factor: o.factor, patience: 3, cooldown: 1, minLr: 1e-6, verbose: 1 }),
    new ModelCheckpoint(path.join(dir, 'tl_best.keras'), { monitor: 'val_loss', mode: 'min', saveBestOnly: true }),
    new CSVLogger(path.join(dir, 'train_log.csv'), { append: false }),
  ];
}

export const RECIPES: Record<'resnet50Cars' | 'inceptionV3Cars' | 'vgg16Gtsrb' | 'inceptionOutline5' | 'inceptionEvaluate', Recipe> = {
  resnet50Cars: {
    base: 'resnet50',
    imageSize: [224, 224],
    batchSize: 32,
    seed: 42,
    head: () => HEADS.resnet50Cars(),
    compile: carsCompile(1e-3, false),
    epochs: 100,
    callbacks: (dir) => carsCallbacks(dir, { patience: 8, minDelta: 1e-3, factor: 0.2 }),
  },
  inceptionV3Cars: {
    base: 'inceptionV3',
    imageSize: [299, 299],
    batchSize: 32,
    seed: 42,
    head: () => HEADS.inceptionV3Cars(),
    compile: carsCompile(3e-4, true),
    epochs: 100,
    callbacks: (dir) => carsCallbacks(dir, { patience: 5, minDelta: 5e-4, factor: 0.5 }),
    // Load tl_best, freeze model.layers[:249] (up to mixed8), Adam(5e-7), same loss and metrics, 150 epochs.
    fineTune: { freezeUpTo: 249, compile: carsCompile(5e-7, true), epochs: 150 },
  },
  vgg16Gtsrb: {
    base: 'vgg16',
    imageSize: [224, 224],
    batchSize: 32,
    seed: 42,
    head: () => HEADS.vgg16Gtsrb(),
    // One phase: the last 8 base layers (block4_conv1 … block5_pool) train with the head from the start.
    freezeUpTo: 11,
    compile: { optimizer: adam(1e-4), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] },
    epochs: 101,
    callbacks: () => [],
  },
  inceptionOutline5: {
    base: 'inceptionV3',
    imageSize: [299, 299],
    batchSize: 32,
    seed: 42,
    head: () => HEADS.inceptionOutline5(),
    compile: { optimizer: adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] },
    epochs: 5,
    callbacks: () => [],
    // base.layers[:-50] frozen: 311 - 50 = 261.
    fineTune: { freezeUpTo: 261, unfreezeLastBaseLayers: 50, compile: { optimizer: adam(1e-5), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] }, epochs: 5 },
  },
  inceptionEvaluate: {
    base: 'inceptionV3',
    imageSize: [299, 299],
    batchSize: 32,
    seed: 42,
    head: () => HEADS.inceptionEvaluate({ classes: 5 }),
    compile: { optimizer: adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] },
    epochs: 10, // the walkthrough leaves initial_epochs / fine_tune_epochs open
    callbacks: () => [],
    // base.layers[-20:] unfrozen: 311 - 20 = 291.
    fineTune: { freezeUpTo: 291, unfreezeLastBaseLayers: 20, compile: { optimizer: adam(1e-4), loss: 'categoricalCrossentropy', metrics: ['accuracy'] }, epochs: 10 },
  },
};
