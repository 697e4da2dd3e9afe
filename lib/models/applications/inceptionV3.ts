// InceptionV3 exactly as keras.applications.inception_v3.InceptionV3 builds it.
// Unnamed Keras layers get the names a fresh Keras session gives them (conv2d, conv2d_1, ...,
// batch_normalization_93, activation_93, average_pooling2d_8, concatenate_1).
import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization } from '../batchnorm';
import {
  type ApplicationOptions,
  resolveOptions,
  applyWeights,
  apply1,
  gapTopOrPooling,
  AUTO_POOL_NAMES,
  KerasNames,
  kerasConv2d,
  type SymT,
} from './common';
import type { Architecture } from '../architecture';

type Pad = 'same' | 'valid';

/**
 * Keras' InceptionV3. `includeTop: false` gives 311 layers and 21,802,784 params;
 * `layers[248]` is mixed8 and `layers[310]` mixed10, so `layers.slice(249)` are the mixed9 and
 * mixed10 blocks (the walkthrough's fine-tuning range). Minimum input 75x75.
 */
export async function inceptionV3(opts: ApplicationOptions = {}): Promise<tf.LayersModel> {
  const o = resolveOptions('inceptionV3', opts, INCEPTION_V3);
  const names = new KerasNames();

  // Keras' conv2d_bn: conv without bias, BN without scale (epsilon 1e-3), ReLU.
  const convBn = (
    x: SymT,
    filters: number,
    rows: number,
    cols: number,
    padding: Pad = 'same',
    strides = 1,
    name?: string,
  ): SymT => {
    x = apply1(
      kerasConv2d({
        filters,
        kernelSize: [rows, cols],
        strides,
        padding,
        useBias: false,
        name: name ? `${name}_conv` : names.next('conv2d'),
      }),
      x,
    );
    x = apply1(
      new KerasBatchNormalization({
        axis: 3,
        scale: false,
        epsilon: 1e-3,
        name: name ? `${name}_bn` : names.next('batch_normalization'),
      }),
      x,
    );
    return apply1(
      tf.layers.activation({ activation: 'relu', name: name ?? names.next('activation') }),
      x,
    );
  };
  const maxPool = (x: SymT) =>
    apply1(
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: names.next('max_pooling2d') }),
      x,
    );
  const avgPool = (x: SymT) =>
    apply1(
      tf.layers.averagePooling2d({
        poolSize: 3,
        strides: 1,
        padding: 'same',
        name: names.next('average_pooling2d'),
      }),
      x,
    );
  const concat = (xs: SymT[], name?: string) =>
    apply1(tf.layers.concatenate({ axis: 3, name: name ?? names.next('concatenate') }), xs);

  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  let x = convBn(input, 32, 3, 3, 'valid', 2);
  x = convBn(x, 32, 3, 3, 'valid');
  x = convBn(x, 64, 3, 3);
  x = maxPool(x);
  x = convBn(x, 80, 1, 1, 'valid');
  x = convBn(x, 192, 3, 3, 'valid');
  x = maxPool(x);

  // mixed0..2: 35 x 35 x 256/288
  for (const [i, poolFilters] of [
    [0, 32],
    [1, 64],
    [2, 64],
  ]) {
    const b1 = convBn(x, 64, 1, 1);
    let b5 = convBn(x, 48, 1, 1);
    b5 = convBn(b5, 64, 5, 5);
    let b3 = convBn(x, 64, 1, 1);
    b3 = convBn(b3, 96, 3, 3);
    b3 = convBn(b3, 96, 3, 3);
    let bp = avgPool(x);
    bp = convBn(bp, poolFilters, 1, 1);
    x = concat([b1, b5, b3, bp], `mixed${i}`);
  }

  // mixed3: 17 x 17 x 768
  {
    const b3 = convBn(x, 384, 3, 3, 'valid', 2);
    let bd = convBn(x, 64, 1, 1);
    bd = convBn(bd, 96, 3, 3);
    bd = convBn(bd, 96, 3, 3, 'valid', 2);
    const bp = maxPool(x);
    x = concat([b3, bd, bp], 'mixed3');
  }

  // mixed4..7: 17 x 17 x 768 with 128, 160, 160, 192 filters in the 7x7 branches
  for (const [i, f] of [
    [4, 128],
    [5, 160],
    [6, 160],
    [7, 192],
  ]) {
    const b1 = convBn(x, 192, 1, 1);
    let b7 = convBn(x, f, 1, 1);
    b7 = convBn(b7, f, 1, 7);
    b7 = convBn(b7, 192, 7, 1);
    let bd = convBn(x, f, 1, 1);
    bd = convBn(bd, f, 7, 1);
    bd = convBn(bd, f, 1, 7);
    bd = convBn(bd, f, 7, 1);
    bd = convBn(bd, 192, 1, 7);
    let bp = avgPool(x);
    bp = convBn(bp, 192, 1, 1);
    x = concat([b1, b7, bd, bp], `mixed${i}`);
  }

  // mixed8: 8 x 8 x 1280
  {
    let b3 = convBn(x, 192, 1, 1);
    b3 = convBn(b3, 320, 3, 3, 'valid', 2);
    let b7 = convBn(x, 192, 1, 1);
    b7 = convBn(b7, 192, 1, 7);
    b7 = convBn(b7, 192, 7, 1);
    b7 = convBn(b7, 192, 3, 3, 'valid', 2);
    const bp = maxPool(x);
    x = concat([b3, b7, bp], 'mixed8');
  }

  // mixed9, mixed10: 8 x 8 x 2048
  for (let i = 0; i < 2; i++) {
    const b1 = convBn(x, 320, 1, 1);
    const b3 = convBn(x, 384, 1, 1);
    const b3a = convBn(b3, 384, 1, 3);
    const b3b = convBn(b3, 384, 3, 1);
    const b3cat = concat([b3a, b3b], `mixed9_${i}`);
    let bd = convBn(x, 448, 1, 1);
    bd = convBn(bd, 384, 3, 3);
    const bda = convBn(bd, 384, 1, 3);
    const bdb = convBn(bd, 384, 3, 1);
    const bdcat = concat([bda, bdb]);
    let bp = avgPool(x);
    bp = convBn(bp, 192, 1, 1);
    x = concat([b1, b3cat, bdcat, bp], `mixed${9 + i}`);
  }

  x = gapTopOrPooling(x, o, AUTO_POOL_NAMES);
  const model = tf.model({ inputs: input, outputs: x, name: 'inception_v3' });
  return applyWeights(model, INCEPTION_V3, o, opts);
}

/** Every fact of InceptionV3 the library uses (keras/src/applications/inception_v3.py). */
export const INCEPTION_V3: Architecture = {
  name: 'inceptionv3',
  displayName: 'InceptionV3',
  build: inceptionV3,
  defaultSize: 299,
  minSize: 75,
  preprocessing: 'tf',
  weights: {
    top: {
      subdir: 'inception_v3',
      file: 'inception_v3_weights_tf_dim_ordering_tf_kernels.h5',
      md5: '9a0d58056eeedaa3f26cb7ebd46da564',
    },
    notop: {
      subdir: 'inception_v3',
      file: 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
      md5: 'bcbd6486424b2319ff4ef7d526e38f63',
    },
  },
  // The walkthrough's `model.layers[:249]`: mixed9 and mixed10 train, features cached at mixed8.
  boundaries: { fineTuneFrom: 249, cacheAt: 'mixed8', lastBlockFrom: 249 },
  standIn: {
    spec: { steps: 150, batchSize: 32, learningRate: 1e-3, seed: 1 },
    quickSize: 75,
    sizeIndependent: false,
  },
  benchSize: 139,
};
