// The registry of architectures (fastai's model_meta): one list of records that the code reads —
// the stand-in, preprocessing by base name, downloads, benches and notebooks. A record holds every
// fact of its base and lives in the base's module (lib/models/applications/*.ts), as Keras keeps each
// application in its file; a new base is its module, one line in BUILT_IN below, and its test.
//
// This module sits above the builders: `weights: 'auto'` (ImageNet, else the pretext stand-in, which
// is pretrained with the builder itself) is resolved here, so no builder imports the stand-in.
import type * as tf from '@tensorflow/tfjs';
import { VGG16 } from './applications/vgg16';
import { RESNET50 } from './applications/resnet50';
import { INCEPTION_V3 } from './applications/inceptionV3';
import { resolveOptions } from './applications/common';
import type { ApplicationOptions, Architecture } from './architecture';
import { resolveAutoWeights } from './choose-weights';
import { tagWeightsOrigin } from './origin';
import { nameBasePreprocessing } from '../data/preprocess';
import { showMarkdown } from '../display';

export type { Architecture } from './architecture';

const BUILT_IN: Architecture[] = [VGG16, RESNET50, INCEPTION_V3];

const registry = new Map<string, Architecture>();

/** The lookup key: 'InceptionV3', 'inception_v3' and 'inceptionv3' are one base. */
const key = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

/**
 * Add a base to the registry (the built-in ones are added on import); returns a function that
 * removes it again (tests). Its name then also names its preprocess_input mode in lib/data.
 */
export function registerArchitecture(arch: Architecture): () => void {
  if (registry.has(key(arch.name)))
    throw new Error(`An architecture named "${arch.name}" is already registered.`);
  registry.set(key(arch.name), arch);
  nameBasePreprocessing(arch.name, arch.preprocessing);
  return () => void registry.delete(key(arch.name));
}
for (const arch of BUILT_IN) registerArchitecture(arch);

/** Every registered base, built-in ones first. */
export function architectures(): Architecture[] {
  return [...registry.values()];
}

/** The record of a base by name ('resnet50', 'InceptionV3', 'inception_v3'); an unknown name lists the known ones. */
export function architecture(name: string): Architecture {
  const a = registry.get(key(name));
  if (!a)
    throw new Error(
      `Unknown architecture "${name}": use one of ${architectures()
        .map((x) => x.name)
        .join(', ')}.`,
    );
  return a;
}

/**
 * `arch`'s Keras builder, plus `weights: 'auto'` (not Keras'; includeTop false, square input): Keras'
 * ImageNet file when cached or downloadable, otherwise the offline stand-in pretrained on generated
 * data at this input size (lib/models/pretext.ts), said in one line.
 */
export function application(
  arch: Architecture,
): (opts?: ApplicationOptions) => Promise<tf.LayersModel> {
  const fn = arch.build.name || arch.name;
  return async (opts: ApplicationOptions = {}) => {
    if (opts.weights !== 'auto') return arch.build(opts);
    if (opts.includeTop ?? true)
      throw new Error(
        `${fn}: weights: 'auto' is for a base without its top (includeTop: false); use 'imagenet' for the ImageNet classifier.`,
      );
    // Keras' option and shape checks before any download or pretraining.
    const [h, w] = resolveOptions(fn, { ...opts, weights: null }, arch).inputShape;
    if (h == null || h !== w) {
      throw new Error(
        `${fn}: weights: 'auto' needs a square inputShape (e.g. [64, 64, 3]): the offline stand-in is pretrained at that size.`,
      );
    }
    const auto = await resolveAutoWeights(arch, h, opts);
    if (!opts.quiet) showMarkdown(`**Weights (${arch.name}):** ${auto.reason}`);
    const model = await arch.build({ ...opts, weights: auto.file });
    tagWeightsOrigin(model, { base: arch.name, weights: auto.origin });
    return model;
  };
}

/** Keras' VGG16: `includeTop: false` gives 19 layers and 14,714,688 params; `weights: 'auto'` as above. */
export const vgg16 = application(VGG16);
/** Keras' ResNet50: `includeTop: false` gives 175 layers and 23,587,712 params; `weights: 'auto'` as above. */
export const resnet50 = application(RESNET50);
/** Keras' InceptionV3: `includeTop: false` gives 311 layers, `layers[248]` = mixed8; `weights: 'auto'` as above. */
export const inceptionV3 = application(INCEPTION_V3);
