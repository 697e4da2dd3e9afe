// ResNet50 exactly as keras.applications.resnet.ResNet50 builds it (names, order, shapes, params).
import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization } from '../batchnorm';
import {
  type ApplicationOptions,
  resolveOptions,
  applyWeights,
  apply1,
  gapTopOrPooling,
  kerasConv2d,
  type SymT,
} from './common';
import type { Architecture } from '../architecture';

const EPS = 1.001e-5; // Keras' ResNet BN epsilon
const bn = (name: string) => new KerasBatchNormalization({ axis: 3, epsilon: EPS, name });
const relu = (name: string) => tf.layers.activation({ activation: 'relu', name });

/** Keras' `block1`: bottleneck residual block, with a projection shortcut when `convShortcut`. */
function block1(
  x: SymT,
  filters: number,
  stride: number,
  convShortcut: boolean,
  name: string,
): SymT {
  let shortcut = x;
  if (convShortcut) {
    shortcut = apply1(
      kerasConv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }),
      x,
    );
    shortcut = apply1(bn(`${name}_0_bn`), shortcut);
  }
  x = apply1(kerasConv2d({ filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` }), x);
  x = apply1(bn(`${name}_1_bn`), x);
  x = apply1(relu(`${name}_1_relu`), x);
  x = apply1(kerasConv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}_2_conv` }), x);
  x = apply1(bn(`${name}_2_bn`), x);
  x = apply1(relu(`${name}_2_relu`), x);
  x = apply1(kerasConv2d({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), x);
  x = apply1(bn(`${name}_3_bn`), x);
  // Shortcut first, as in Keras: it fixes the order of equal-depth layers in model.layers.
  x = apply1(tf.layers.add({ name: `${name}_add` }), [shortcut, x]);
  return apply1(relu(`${name}_out`), x);
}

function stack1(x: SymT, filters: number, blocks: number, stride1: number, name: string): SymT {
  x = block1(x, filters, stride1, true, `${name}_block1`);
  for (let i = 2; i <= blocks; i++) x = block1(x, filters, 1, false, `${name}_block${i}`);
  return x;
}

/**
 * Keras' ResNet50 (v1, "caffe" preprocessing). `includeTop: false` gives 175 layers and
 * 23,587,712 params (53,120 of them BN moving statistics). Minimum input 32x32.
 */
export async function resnet50(opts: ApplicationOptions = {}): Promise<tf.LayersModel> {
  const o = resolveOptions('resnet50', opts, RESNET50);
  const input = tf.input({ shape: o.inputShape, name: 'input_1' });
  let x: SymT = apply1(
    tf.layers.zeroPadding2d({
      padding: [
        [3, 3],
        [3, 3],
      ],
      name: 'conv1_pad',
    }),
    input,
  );
  x = apply1(kerasConv2d({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' }), x);
  x = apply1(bn('conv1_bn'), x);
  x = apply1(relu('conv1_relu'), x);
  x = apply1(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: 'pool1_pad',
    }),
    x,
  );
  x = apply1(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
  x = stack1(x, 64, 3, 1, 'conv2');
  x = stack1(x, 128, 4, 2, 'conv3');
  x = stack1(x, 256, 6, 2, 'conv4');
  x = stack1(x, 512, 3, 2, 'conv5');
  x = gapTopOrPooling(x, o, { avg: 'avg_pool', max: 'max_pool' });
  const model = tf.model({ inputs: input, outputs: x, name: 'resnet50' });
  return applyWeights(model, RESNET50, o, opts);
}

/** Every fact of ResNet50 the library uses (keras/src/applications/resnet.py). */
export const RESNET50: Architecture = {
  name: 'resnet50',
  displayName: 'ResNet50',
  build: resnet50,
  defaultSize: 224,
  minSize: 32,
  preprocessing: 'caffe',
  weights: {
    top: {
      subdir: 'resnet',
      file: 'resnet50_weights_tf_dim_ordering_tf_kernels.h5',
      md5: '2cb95161c43110f7111970584f804107',
    },
    notop: {
      subdir: 'resnet',
      file: 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
      md5: '4d473c1dd8becc155b73f8504c6f6626',
    },
  },
  // The conv5 stage (layers[143:]) after conv4_block6_out.
  boundaries: {
    fineTuneFrom: 143,
    cacheAt: 'conv4_block6_out',
    lastBlockFrom: 'conv5_block3_1_conv',
  },
  standIn: {
    spec: { steps: 100, batchSize: 32, learningRate: 1e-3, seed: 1 },
    quickSize: 64,
    sizeIndependent: false,
    // Each block's last batch norm, before the shortcut joins: zero at the start of pretraining.
    residualBranchEnds: /_3_bn$/,
  },
  benchSize: 112,
};
