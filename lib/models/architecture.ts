// What an architecture is, as one record (fastai's model_meta, Keras' applications/<name>.py): its
// builder, default input size, preprocess_input mode, Keras' weight files, the layer boundaries the
// notebooks use and the size and recipe of its offline stand-in. Each base fills one in its own
// module (lib/models/applications/*.ts); lib/models/architectures.ts lists them, and everything that
// asks "which base is this?" reads that list. Types only, so every module can import it.
import type * as tf from '@tensorflow/tfjs';
import type { KerasPreprocessMode } from '../data/preprocess';
import type { KerasWeightFiles, WeightsDownloadOptions } from './weights';

/** Keras' options for `keras.applications.*` (camelCase), plus where downloads go. */
export interface ApplicationOptions extends WeightsDownloadOptions {
  /** Keep the 1000-class ImageNet classifier on top (Keras default: true). */
  includeTop?: boolean;
  /**
   * `'imagenet'` (default): Keras' own ImageNet weights, downloaded on first use into the Keras
   * cache; `null`: random initialisation; or a path to a Keras `.h5` weights file (loaded by order).
   * `'auto'` (not Keras'; includeTop false; the registry's builders resolve it): ImageNet when cached
   * or downloadable, otherwise the offline stand-in pretrained on generated data at this input
   * size (lib/models/pretext.ts).
   */
  weights?: 'imagenet' | 'auto' | null | string;
  /** `[height, width, channels]`; defaults to the native size with the top, `[null, null, 3]` without. */
  inputShape?: readonly [number | null, number | null, number];
  /** Without the top: `'avg'` / `'max'` global pooling gives a 2-D output; default none (4-D). */
  pooling?: 'avg' | 'max' | null;
  /** Classes of the top classifier (only with `includeTop`, and 1000 with ImageNet weights). */
  classes?: number;
  /** Activation of the top classifier (Keras default 'softmax'; null for logits). */
  classifierActivation?: 'softmax' | 'sigmoid' | 'linear' | null;
}

/** What "pretrained on generated data" means, exactly; part of the cached stand-in's identity. */
export interface PretextSpec {
  /** Optimiser steps of `batchSize` freshly drawn images. */
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export interface Architecture extends KerasWeightFiles {
  /** Keras' module name, lower case ('vgg16', 'resnet50', 'inceptionv3'): file names and lookups use it. */
  name: string;
  /** What charts and benches call it ('VGG16', 'InceptionV3'). */
  displayName: string;
  /**
   * Keras' builder (`keras.applications.VGG16`): weights `'imagenet'`, `null` or a `.h5` file.
   * `weights: 'auto'` is resolved above it, by the builders of lib/models/architectures.ts.
   */
  build: (opts?: ApplicationOptions) => Promise<tf.LayersModel>;
  /** Native input side (Keras' default input shape) and the smallest side it accepts. */
  defaultSize: number;
  minSize: number;
  /** Keras' preprocess_input mode for this family. */
  preprocessing: KerasPreprocessMode;
  /** Named `model.layers` boundaries of the base without its top. */
  boundaries: {
    /**
     * The walkthrough's fine-tuning range starts here: `freeze(model, { upTo: fineTuneFrom })` is
     * Keras' `model.layers[:fineTuneFrom]` (InceptionV3: 249), and features are cached at
     * `layers[fineTuneFrom - 1]`, named `cacheAt` (InceptionV3: mixed8).
     */
    fineTuneFrom: number;
    cacheAt: string;
    /** First layer of the last block (what the benches train as "top"). */
    lastBlockFrom: string | number;
  };
  /**
   * The offline stand-in (lib/models/pretext.ts): its pretext recipe (steps sized so that the three
   * built-in bases pretrain in about 10 minutes on a 2-core CPU) and the quick profile's input side,
   * which `npm run prepare-weights` prepares. The recipe, key order included, is part of the cached
   * file's identity: changing it pretrains anew. `sizeIndependent`: the base has no
   * BatchNormalization, so its weights do not depend on the input side and the stand-in pretrained
   * at `quickSize` loads at every side (notebook 03 runs GTSRB's photos at 48 px on VGG16's 32-px
   * stand-in); a base with BatchNormalization is pretrained at the side it is used at, since its
   * statistics depend on it. `residualBranchEnds`: the BatchNormalization layers that end a
   * residual branch (ResNet50's `*_3_bn`); the pretraining starts their scale at zero so that every
   * residual block starts as the identity (Goyal et al. 2017; torchvision's `zero_init_residual`).
   */
  standIn: {
    spec: PretextSpec;
    quickSize: number;
    sizeIndependent: boolean;
    residualBranchEnds?: RegExp;
  };
  /** A reduced input side the benches time beside the native one. */
  benchSize: number;
}
