// What the Keras application builders share: option checks, input-shape rules, weight loading.
// Keras' own weight choices only ('imagenet', null, a file): `weights: 'auto'` needs the stand-in,
// which needs a builder, so it is resolved above the builders (lib/models/architectures.ts).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadKerasWeights } from '../h5';
import { tagWeightsOrigin } from '../origin';
import { getKerasWeights, type WeightsDownloadOptions, type KerasWeightFiles } from '../weights';
import type { ApplicationOptions, Architecture } from '../architecture';

export type { ApplicationOptions } from '../architecture';

export interface ResolvedOptions {
  includeTop: boolean;
  weights: 'imagenet' | 'auto' | null | string;
  inputShape: [number | null, number | null, number];
  pooling: 'avg' | 'max' | null;
  classes: number;
  classifierActivation: 'softmax' | 'sigmoid' | 'linear';
}

/** Keras' `obtain_input_shape` and the option checks every application does. */
export function resolveOptions(
  fn: string,
  opts: ApplicationOptions,
  { defaultSize, minSize }: Pick<Architecture, 'defaultSize' | 'minSize'>,
): ResolvedOptions {
  const includeTop = opts.includeTop ?? true;
  const weights = opts.weights === undefined ? 'imagenet' : opts.weights;
  const classes = opts.classes ?? 1000;
  const classifierActivation =
    opts.classifierActivation === undefined ? 'softmax' : (opts.classifierActivation ?? 'linear');
  const pooling = opts.pooling ?? null;

  if (weights === 'auto') {
    throw new Error(
      `${fn}: this is Keras' builder (weights 'imagenet', null or a .h5 file); weights: 'auto' is ` +
        `resolved by the builders of lib/models/architectures.ts (nb.${fn} in a notebook).`,
    );
  }
  if (weights !== null && weights !== 'imagenet' && weights !== 'auto' && !fs.existsSync(weights)) {
    throw new Error(
      `${fn}: weights file "${weights}" not found. Pass weights: 'imagenet' (Keras' ImageNet ` +
        `weights), null (random initialisation) or the path of an existing Keras .h5 file.`,
    );
  }
  if (weights === 'imagenet' && includeTop && classes !== 1000) {
    throw new Error(
      `${fn}: with weights: 'imagenet' and includeTop: true, classes must be 1000 (got ${classes}). ` +
        'For your own classes use includeTop: false and put a new head on top.',
    );
  }
  if (
    weights === 'imagenet' &&
    includeTop &&
    classifierActivation !== 'softmax' &&
    opts.classifierActivation !== null
  ) {
    throw new Error(
      `${fn}: with ImageNet weights and the top, classifierActivation must be 'softmax' or null.`,
    );
  }
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') {
    throw new Error(
      `${fn}: pooling must be 'avg', 'max' or null (got ${JSON.stringify(pooling)}).`,
    );
  }

  const defaultShape: [number, number, number] = [defaultSize, defaultSize, 3];
  let inputShape = opts.inputShape ?? null;
  if (weights === 'imagenet' && includeTop) {
    if (inputShape && inputShape.join() !== defaultShape.join()) {
      throw new Error(
        `${fn}: with includeTop: true and ImageNet weights, inputShape must be ` +
          `[${defaultShape.join(', ')}] (got [${inputShape.join(', ')}]). Use includeTop: false for other sizes.`,
      );
    }
    inputShape = defaultShape;
  }
  if (inputShape) {
    if (inputShape.length !== 3) {
      throw new Error(
        `${fn}: inputShape must be [height, width, channels] (got ${JSON.stringify(inputShape)}).`,
      );
    }
    if (weights === 'imagenet' && inputShape[2] !== 3) {
      throw new Error(
        `${fn}: ImageNet weights need 3 input channels (got inputShape [${inputShape.join(', ')}]).`,
      );
    }
    if (
      (inputShape[0] != null && inputShape[0] < minSize) ||
      (inputShape[1] != null && inputShape[1] < minSize)
    ) {
      throw new Error(
        `${fn}: input size must be at least ${minSize}x${minSize}; got inputShape [${inputShape.join(', ')}].`,
      );
    }
  } else {
    inputShape = includeTop ? defaultShape : [null, null, 3];
  }
  if (includeTop && (inputShape[0] == null || inputShape[1] == null)) {
    throw new Error(
      `${fn}: with includeTop: true the inputShape must be fully known (got [${inputShape.join(', ')}]).`,
    );
  }
  return {
    includeTop,
    weights,
    inputShape: [inputShape[0], inputShape[1], inputShape[2]],
    pooling,
    classes,
    classifierActivation,
  };
}

/** Loads the requested weights into a freshly built application model (by order, as Keras does). */
export async function applyWeights(
  model: tf.LayersModel,
  arch: KerasWeightFiles,
  o: ResolvedOptions,
  opts: WeightsDownloadOptions,
): Promise<tf.LayersModel> {
  tagWeightsOrigin(model, { base: arch.name, weights: o.weights ?? 'random' });
  if (o.weights === null) return model;
  const file =
    o.weights === 'imagenet' ? await getKerasWeights(arch, o.includeTop, opts) : o.weights;
  await loadKerasWeights(model, file, { byName: false });
  return model;
}

/** Keras' automatic layer names in a fresh session: conv2d, conv2d_1, conv2d_2, ... */
export class KerasNames {
  private counts = new Map<string, number>();
  next(prefix: string): string {
    const n = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }
}

export type SymT = tf.SymbolicTensor;
export const apply1 = (layer: tf.layers.Layer, x: SymT | SymT[]): SymT => layer.apply(x) as SymT;

/** The optional global pooling of a base without its top (`pooling: 'avg' | 'max'`). */
export function globalPool(
  x: SymT,
  pooling: 'avg' | 'max' | null,
  names: { avg: string; max: string },
): SymT {
  if (pooling === 'avg') return apply1(tf.layers.globalAveragePooling2d({ name: names.avg }), x);
  if (pooling === 'max') return apply1(tf.layers.globalMaxPooling2d({ name: names.max }), x);
  return x;
}

/** Keras' ImageNet classifier layer, `predictions`. */
export const predictions = (x: SymT, o: ResolvedOptions): SymT =>
  apply1(
    kerasDense({ units: o.classes, activation: o.classifierActivation, name: 'predictions' }),
    x,
  );

/** ResNet / Inception top: global average pooling `avg_pool`, then `predictions`; else optional pooling. */
export function gapTopOrPooling(
  x: SymT,
  o: ResolvedOptions,
  poolNames: { avg: string; max: string },
): SymT {
  if (!o.includeTop) return globalPool(x, o.pooling, poolNames);
  return predictions(apply1(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x), o);
}

/** Keras' auto names of the pooling layers added by `pooling` (VGG16, InceptionV3). */
export const AUTO_POOL_NAMES = { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' };

// tfjs' default kernel initializer is glorotNormal; Keras' is glorot_uniform.
type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
/** `tf.layers.conv2d` with Keras' default initializer. */
export const kerasConv2d = (args: ConvArgs) =>
  tf.layers.conv2d({ kernelInitializer: 'glorotUniform', ...args });
/** `tf.layers.dense` with Keras' default initializer. */
export const kerasDense = (args: DenseArgs) =>
  tf.layers.dense({ kernelInitializer: 'glorotUniform', ...args });
