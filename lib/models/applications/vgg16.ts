// VGG16 exactly as keras.applications.vgg16.VGG16 builds it (names, order, shapes, params).
import * as tf from '@tensorflow/tfjs';
import {
  type ApplicationOptions,
  resolveOptions,
  applyWeights,
  apply1,
  globalPool,
  predictions,
  AUTO_POOL_NAMES,
  kerasConv2d,
  kerasDense,
  type SymT,
} from './common';
import type { Architecture } from '../architecture';

/**
 * Keras' VGG16. `includeTop: false` gives 19 layers (input … block5_pool) and 14,714,688 params;
 * `layers.slice(-8)` are block4_conv1 … block5_pool, as in Keras. Minimum input 32x32.
 */
export async function vgg16(opts: ApplicationOptions = {}): Promise<tf.LayersModel> {
  const o = resolveOptions('vgg16', opts, VGG16);
  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  let x: SymT = input;
  const blocks: [number, number][] = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  blocks.forEach(([filters, convs], b) => {
    for (let c = 1; c <= convs; c++) {
      x = apply1(
        kerasConv2d({
          filters,
          kernelSize: 3,
          activation: 'relu',
          padding: 'same',
          name: `block${b + 1}_conv${c}`,
        }),
        x,
      );
    }
    x = apply1(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }), x);
  });
  if (o.includeTop) {
    x = apply1(tf.layers.flatten({ name: 'flatten' }), x);
    x = apply1(kerasDense({ units: 4096, activation: 'relu', name: 'fc1' }), x);
    x = apply1(kerasDense({ units: 4096, activation: 'relu', name: 'fc2' }), x);
    x = predictions(x, o);
  } else {
    x = globalPool(x, o.pooling, AUTO_POOL_NAMES);
  }
  const model = tf.model({ inputs: input, outputs: x, name: 'vgg16' });
  return applyWeights(model, VGG16, o, opts);
}

/** Every fact of VGG16 the library uses (keras/src/applications/vgg16.py). */
export const VGG16: Architecture = {
  name: 'vgg16',
  displayName: 'VGG16',
  build: vgg16,
  defaultSize: 224,
  minSize: 32,
  preprocessing: 'caffe',
  weights: {
    top: {
      subdir: 'vgg16',
      file: 'vgg16_weights_tf_dim_ordering_tf_kernels.h5',
      md5: '64373286793e3c8b2b4e3219cbf3544b',
    },
    notop: {
      subdir: 'vgg16',
      file: 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5',
      md5: '6d6bbae143d832006294945121d1f1fc',
    },
  },
  // The GTSRB walkthrough trains the last 8 layers: block4_conv1 … block5_pool.
  boundaries: { fineTuneFrom: 11, cacheAt: 'block3_pool', lastBlockFrom: 'block5_conv1' },
  // No batch normalisation: a smaller rate, and more steps to move a deep plain ReLU stack.
  standIn: {
    spec: { steps: 300, batchSize: 32, learningRate: 3e-4, seed: 1 },
    quickSize: 32,
    sizeIndependent: true,
  },
  benchSize: 112,
};
