// One record per architecture (fastai's model_meta): how to build it, how it wants its pixels,
// its native input size and Keras' weight files. Each application file registers its builder here
// (registerBuilder): importing the builders from this module would close an import cycle
// (applications -> weights 'auto' -> pretext -> architectures -> applications) that tslab cannot load. Everything else that needs "which base is this?"
// asks this table, so a notebook names its architecture once — in the builder it calls.
import type * as tf from '@tensorflow/tfjs';
import type { ApplicationOptions } from './applications/common';
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

type Builder = (opts?: ApplicationOptions) => Promise<tf.LayersModel>;
const builders: Partial<Record<ArchitectureName, Builder>> = {};

/** Called once by each application module (vgg16.ts, resnet50.ts, inceptionV3.ts). */
export function registerBuilder(name: ArchitectureName, build: Builder): void {
  builders[name] = build;
}

// Imported on first use when no application module has been loaded yet (a script that only
// prepares weights): by then every module is loaded, so the cycle above cannot bite.
const applicationModules: Record<ArchitectureName, () => Promise<unknown>> = {
  vgg16: () => import('./applications/vgg16'),
  resnet50: () => import('./applications/resnet50'),
  inceptionv3: () => import('./applications/inceptionV3'),
};

function builder(name: ArchitectureName): Builder {
  return async (opts) => {
    if (!builders[name]) await applicationModules[name]();
    const b = builders[name];
    if (!b) throw new Error(`lib/models/applications did not register a builder for ${name}.`);
    return b(opts);
  };
}

export const ARCHITECTURES: Record<ArchitectureName, Architecture> = {
  vgg16: {
    name: 'vgg16',
    build: builder('vgg16'),
    preprocessing: 'caffe',
    defaultSize: 224,
    minSize: 32,
    weights: KERAS_WEIGHTS.vgg16,
  },
  resnet50: {
    name: 'resnet50',
    build: builder('resnet50'),
    preprocessing: 'caffe',
    defaultSize: 224,
    minSize: 32,
    weights: KERAS_WEIGHTS.resnet50,
  },
  inceptionv3: {
    name: 'inceptionv3',
    build: builder('inceptionv3'),
    preprocessing: 'tf',
    defaultSize: 299,
    minSize: 75,
    weights: KERAS_WEIGHTS.inceptionv3,
  },
};

export function architecture(name: string): Architecture {
  const a = ARCHITECTURES[name as ArchitectureName];
  if (!a)
    throw new Error(
      `Unknown architecture "${name}": use one of ${Object.keys(ARCHITECTURES).join(', ')}.`,
    );
  return a;
}
