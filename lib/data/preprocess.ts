// Keras' `preprocess_input` for the ImageNet bases (keras.applications.imagenet_utils): one mode
// table and two paths that compute the same thing —
//   preprocessPixels(data, mode)  float32 RGB 0..255 pixels in place, before batching (lib/data's
//                                 `preprocessing: 'caffe'` or a base's name, no extra tensors);
//   preprocessInput(x, mode)      a tensor (predictImage), and the PreprocessInput layer that puts it
//                                 inside a model (withPreprocessing, the VGG16 walkthrough).
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';

/** Keras' three modes (imagenet_utils): `caffe` (BGR, mean subtracted), `tf` (-1..1), `torch` (mean/std). */
export type KerasPreprocessMode = 'caffe' | 'tf' | 'torch';
/**
 * A Keras mode, or the name of a base whose `preprocess_input` it is ('resnet50'). Which mode a base
 * wants is written in its architecture record (lib/models/applications/*.ts); the registry above
 * this folder names it here (nameBasePreprocessing), so this layer never lists the bases.
 */
export type PreprocessMode = KerasPreprocessMode | (string & {});

const MODES = new Map<string, KerasPreprocessMode>([
  ['caffe', 'caffe'],
  ['tf', 'tf'],
  ['torch', 'torch'],
]);

/** Let `base` stand for its Keras mode (`preprocessing: 'resnet50'`); lib/models/architectures.ts calls it per base. */
export function nameBasePreprocessing(base: string, mode: KerasPreprocessMode): void {
  const known = MODES.get(base);
  if (known && known !== mode)
    throw new Error(`preprocessInput: "${base}" already names mode '${known}', not '${mode}'.`);
  MODES.set(base, mode);
}

/** Caffe: per-channel means in BGR order (after flipping RGB -> BGR). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
/** Torch: ImageNet mean/std in RGB order, applied after scaling to [0, 1]. */
export const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCH_STD = [0.229, 0.224, 0.225] as const;

/** The Keras mode of a mode or base name; an unknown name fails with the ones that work. */
export function resolvePreprocessMode(mode: string): KerasPreprocessMode {
  const resolved = MODES.get(mode);
  if (!resolved) {
    const bases = [...MODES].filter(([k, v]) => k !== v).map(([k, v]) => `'${k}' (${v})`);
    throw new Error(
      `preprocessInput: unknown mode "${mode}". Use 'caffe', 'tf' or 'torch'` +
        (bases.length
          ? `, or a base name: ${bases.join(', ')}.`
          : " (base names such as 'resnet50' are known once lib/models/architectures is loaded, as lib/index does)."),
    );
  }
  return resolved;
}

/**
 * Keras `preprocess_input` on RGB pixels in 0..255, channels last, in place; returns `data`.
 * The data pipeline calls it on each batch's pixels before they become a tensor.
 */
export function preprocessPixels(data: Float32Array, mode: PreprocessMode): Float32Array {
  switch (resolvePreprocessMode(mode)) {
    case 'tf':
      for (let i = 0; i < data.length; i++) data[i] = data[i] / 127.5 - 1;
      return data;
    case 'torch':
      for (let i = 0; i < data.length; i += 3) {
        for (let c = 0; c < 3; c++)
          data[i + c] = (data[i + c] / 255 - TORCH_MEAN[c]) / TORCH_STD[c];
      }
      return data;
    case 'caffe':
      for (let i = 0; i < data.length; i += 3) {
        const r = data[i];
        data[i] = data[i + 2] - CAFFE_MEAN_BGR[0];
        data[i + 1] = data[i + 1] - CAFFE_MEAN_BGR[1];
        data[i + 2] = r - CAFFE_MEAN_BGR[2];
      }
      return data;
  }
}

/**
 * Keras `preprocess_input`: `x` holds RGB pixels in 0..255, channels last (any rank >= 1).
 * - caffe: RGB -> BGR, then subtract [103.939, 116.779, 123.68]; no scaling.
 * - tf:    x / 127.5 - 1 (range -1..1).
 * - torch: x / 255, then (x - mean) / std with ImageNet mean/std (RGB).
 */
export function preprocessInput<T extends tf.Tensor>(x: T, mode: PreprocessMode): T {
  const resolved = resolvePreprocessMode(mode);
  return tf.tidy(() => {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    if (resolved === 'tf') return tf.sub(tf.div(xf, 127.5), 1) as T;
    const channels = xf.shape[xf.rank - 1];
    if (channels !== 3) {
      throw new Error(
        `preprocessInput('${resolved}') expects 3 colour channels last; got shape ${JSON.stringify(xf.shape)}.`,
      );
    }
    if (resolved === 'caffe') {
      const bgr = tf.reverse(xf, -1);
      return tf.sub(bgr, tf.tensor1d([...CAFFE_MEAN_BGR])) as T;
    }
    const scaled = tf.div(xf, 255);
    return tf.div(tf.sub(scaled, tf.tensor1d([...TORCH_MEAN])), tf.tensor1d([...TORCH_STD])) as T;
  });
}

export interface PreprocessInputArgs extends LayerArgs {
  mode: PreprocessMode;
}

/** `preprocessInput` as a layer; serializes as `{ mode }` so saved models reload. */
export class PreprocessInput extends tf.layers.Layer {
  static className = 'PreprocessInput';
  readonly mode: KerasPreprocessMode;

  constructor(args: PreprocessInputArgs) {
    super(args);
    this.mode = resolvePreprocessMode(args.mode);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return preprocessInput(Array.isArray(inputs) ? inputs[0] : inputs, this.mode);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}
tf.serialization.registerClass(PreprocessInput);

/** Factory in tfjs style: `preprocessInputLayer({ mode: 'vgg16' }).apply(input)`. */
export function preprocessInputLayer(args: PreprocessInputArgs): PreprocessInput {
  return new PreprocessInput(args);
}
