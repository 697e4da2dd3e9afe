// Keras' `preprocess_input` for the ImageNet bases, as a function (data pipeline) and as a
// serializable layer (so it can sit inside a model, as in the VGG16 walkthrough).
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';

/** Keras' three modes: `caffe` (VGG16, ResNet50), `tf` (InceptionV3), `torch`. */
export type PreprocessMode = 'caffe' | 'tf' | 'torch';
/** A mode, or the name of a base whose mode Keras uses. */
export type PreprocessModeOrModel = PreprocessMode | 'vgg16' | 'resnet50' | 'inceptionv3' | 'inception_v3' | 'inceptionV3';

const MODEL_MODES: Record<string, PreprocessMode> = {
  caffe: 'caffe', tf: 'tf', torch: 'torch',
  vgg16: 'caffe', resnet50: 'caffe', inceptionv3: 'tf', inception_v3: 'tf',
};

/** Caffe: per-channel means in BGR order (after flipping RGB -> BGR). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
/** Torch: ImageNet mean/std in RGB order, applied after scaling to [0, 1]. */
export const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCH_STD = [0.229, 0.224, 0.225] as const;

export function resolvePreprocessMode(modeOrModel: string): PreprocessMode {
  const mode = MODEL_MODES[modeOrModel] ?? MODEL_MODES[modeOrModel.toLowerCase()];
  if (!mode) {
    throw new Error(`preprocessInput: unknown mode "${modeOrModel}". Use 'caffe', 'tf' or 'torch', ` +
      `or a base name: 'vgg16' | 'resnet50' (caffe), 'inceptionv3' (tf).`);
  }
  return mode;
}

/**
 * Keras `preprocess_input`: `x` holds RGB pixels in 0..255, channels last (any rank >= 1).
 * - caffe: RGB -> BGR, then subtract [103.939, 116.779, 123.68]; no scaling.
 * - tf:    x / 127.5 - 1 (range -1..1).
 * - torch: x / 255, then (x - mean) / std with ImageNet mean/std (RGB).
 */
export function preprocessInput<T extends tf.Tensor>(x: T, modeOrModel: PreprocessModeOrModel | string): T {
  const mode = resolvePreprocessMode(modeOrModel);
  return tf.tidy(() => {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    if (mode === 'tf') return tf.sub(tf.div(xf, 127.5), 1) as T;
    const channels = xf.shape[xf.rank - 1];
    if (channels !== 3) {
      throw new Error(`preprocessInput('${mode}') expects 3 colour channels last; got shape ${JSON.stringify(xf.shape)}.`);
    }
    if (mode === 'caffe') {
      const bgr = tf.reverse(xf, -1);
      return tf.sub(bgr, tf.tensor1d([...CAFFE_MEAN_BGR])) as T;
    }
    const scaled = tf.div(xf, 255);
    return tf.div(tf.sub(scaled, tf.tensor1d([...TORCH_MEAN])), tf.tensor1d([...TORCH_STD])) as T;
  });
}

export interface PreprocessInputArgs extends LayerArgs {
  mode: PreprocessModeOrModel;
}

/** `preprocessInput` as a layer; serializes as `{ mode }` so saved models reload. */
export class PreprocessInput extends tf.layers.Layer {
  static className = 'PreprocessInput';
  readonly mode: PreprocessMode;

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
