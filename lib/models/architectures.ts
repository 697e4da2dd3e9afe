// One record per architecture (fastai's model_meta): how to build it, how it wants its pixels,
// its native input size and Keras' weight files. (Builders are called through arrows: the
// applications import this module's neighbours, and a direct reference would be read mid-load.) Everything else that needs "which base is this?"
// asks this table, so a notebook names its architecture once — in the builder it calls.
import type * as tf from '@tensorflow/tfjs';
import type { ApplicationOptions } from './applications/common';
import { vgg16 } from './applications/vgg16';
import { resnet50 } from './applications/resnet50';
import { inceptionV3 } from './applications/inceptionV3';
import { KERAS_WEIGHTS, type KerasApplicationName } from './weights';
import type { PreprocessMode } from '../data/preprocess';

export type ArchitectureName = KerasApplicationName;

export interface Architecture {
  name: ArchitectureName;
  /** The Keras application builder. */
  build: (opts?: ApplicationOptions) => Promise<tf.LayersModel>;
  /** Keras' preprocess_input mode for this family. */
  preprocessing: PreprocessMode;
  /** Native input side (Keras' default input shape) and the smallest side it accepts. */
  defaultSize: number;
  minSize: number;
  /** Keras' ImageNet weight files (with and without the top). */
  weights: (typeof KERAS_WEIGHTS)[KerasApplicationName];
}

export const ARCHITECTURES: Record<ArchitectureName, Architecture> = {
  vgg16: { name: 'vgg16', build: (o) => vgg16(o), preprocessing: 'caffe', defaultSize: 224, minSize: 32, weights: KERAS_WEIGHTS.vgg16 },
  resnet50: { name: 'resnet50', build: (o) => resnet50(o), preprocessing: 'caffe', defaultSize: 224, minSize: 32, weights: KERAS_WEIGHTS.resnet50 },
  inceptionv3: { name: 'inceptionv3', build: (o) => inceptionV3(o), preprocessing: 'tf', defaultSize: 299, minSize: 75, weights: KERAS_WEIGHTS.inceptionv3 },
};

export function architecture(name: string): Architecture {
  const a = ARCHITECTURES[name as ArchitectureName];
  if (!a) throw new Error(`Unknown architecture "${name}": use one of ${Object.keys(ARCHITECTURES).join(', ')}.`);
  return a;
}
