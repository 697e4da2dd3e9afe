// BatchNormalization with Keras (TF2) semantics.
//
// tfjs' own BatchNormalization differs from Keras in two ways the walkthroughs depend on:
//  1. it uses batch statistics whenever `training` is true, even when the layer is frozen;
//     Keras (TF2) runs a frozen BN (`trainable = false`, or inside a frozen model) in inference
//     mode and never touches its moving mean/variance;
//  2. `scale: false` crashes in training (tfjs issue #2868) — every InceptionV3 BN has it.
// This layer fixes both and keeps Keras' weight order (gamma, beta, moving_mean, moving_variance)
// so Keras HDF5 files load into it by order.
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { BN_TRAIN, BN_TRAIN_GRAD } from '../backend/onednn-kernels';

export interface KerasBatchNormalizationArgs extends LayerArgs {
  /** Channel axis (Keras default -1, channels last). */
  axis?: number;
  /** Moving-average momentum (Keras default 0.99). */
  momentum?: number;
  /** Added to the variance (Keras default 1e-3; ResNet50 uses 1.001e-5). */
  epsilon?: number;
  /** Learn an offset `beta` (default true). */
  center?: boolean;
  /** Learn a multiplier `gamma` (default true; InceptionV3 uses false). */
  scale?: boolean;
}

type LV = tf.LayerVariable;

export class KerasBatchNormalization extends tf.layers.Layer {
  static className = 'KerasBatchNormalization';
  readonly axis: number;
  /** Not readonly: recalibrateBatchNorm averages batches by varying it. */
  momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma: LV | null = null;
  private beta: LV | null = null;
  private movingMean!: LV;
  private movingVariance!: LV;

  constructor(args: KerasBatchNormalizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const axis = this.axis >= 0 ? this.axis : this.axis + shape.length;
    const dim = shape[axis];
    if (dim == null) {
      throw new Error(
        `BatchNormalization "${this.name}": axis ${axis} of its input ${JSON.stringify(shape)} ` +
          'must have a known size (give the model an inputShape with a fixed channel count).',
      );
    }
    // Creation order = Keras weight order: trainable first (gamma, beta), then moving stats.
    if (this.scale) this.gamma = this.addWeight('gamma', [dim], 'float32', tf.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [dim], 'float32', tf.initializers.zeros());
    // The moving statistics are weights too (saved, loaded), but never trained.
    const statistic = (name: string, init: ReturnType<typeof tf.initializers.zeros>) =>
      this.addWeight(name, [dim], 'float32', init, undefined, false);
    this.movingMean = statistic('moving_mean', tf.initializers.zeros());
    this.movingVariance = statistic('moving_variance', tf.initializers.ones());
    this.built = true;
  }

  /**
   * Frozen as Keras sees it: the layer's own flag is off, or an enclosing model was frozen
   * (tfjs' `model.trainable = false` only flips the flags of the layers' variables).
   */
  isFrozen(): boolean {
    if (!this.trainable) return true;
    const own = [this.gamma, this.beta].filter((v): v is LV => v != null);
    return own.length > 0 && own.every((v) => !v.trainable);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = kwargs['training'] === true && !this.isFrozen();
      const ndim = x.rank;
      const axis = this.axis >= 0 ? this.axis : this.axis + ndim;
      const bshape = new Array<number>(ndim).fill(1);
      bshape[axis] = x.shape[axis];
      const lastAxis = axis === ndim - 1;
      const b = (t: tf.Tensor) => (lastAxis ? t : t.reshape(bshape));
      const gamma = this.gamma ? b(this.gamma.read()) : null;
      const beta = this.beta ? b(this.beta.read()) : null;

      if (!training) {
        const mean = b(this.movingMean.read());
        const variance = b(this.movingVariance.read());
        if (kwargs['training'] !== true) {
          // Pure inference: one fused kernel (native on onednn, fast on wasm).
          return tf.batchNorm(
            x,
            mean,
            variance,
            beta ?? undefined,
            gamma ?? undefined,
            this.epsilon,
          );
        }
        // Frozen layer inside a training step: the same fused kernel, with a gradient for x alone.
        return frozenBatchNorm(x, mean, variance, gamma, beta, this.epsilon);
      }

      // Keras: moving = moving * momentum + batch * (1 - momentum). The loss never reads these
      // values, so no gradient flows through the update.
      const update = (v: LV, batch: tf.Tensor) =>
        tf.tidy(() => {
          const value = tf.add(tf.mul(v.read(), this.momentum), tf.mul(batch, 1 - this.momentum));
          v.write(value);
        });
      if (
        lastAxis &&
        ndim >= 2 &&
        x.dtype === 'float32' &&
        tf.getKernel(BN_TRAIN, tf.getBackend())
      ) {
        // One native kernel each way (oneDNN's batch norm) instead of ~10 element-wise passes.
        return trainingBatchNorm(x, gamma, beta, this.epsilon, (mean, variance) => {
          update(this.movingMean, mean);
          update(this.movingVariance, variance);
        });
      }
      const reduceAxes = [...Array(ndim).keys()].filter((a) => a !== axis);
      const { mean, variance } = tf.moments(x, reduceAxes, false);
      const y = this.affine(x, b(mean), b(variance), gamma, beta);
      update(this.movingMean, mean);
      update(this.movingVariance, variance);
      return y;
    });
  }

  private affine(
    x: tf.Tensor,
    mean: tf.Tensor,
    variance: tf.Tensor,
    gamma: tf.Tensor | null,
    beta: tf.Tensor | null,
  ): tf.Tensor {
    let inv = tf.rsqrt(tf.add(variance, this.epsilon));
    if (gamma) inv = tf.mul(inv, gamma);
    let y = tf.mul(tf.sub(x, mean), inv);
    if (beta) y = tf.add(y, beta);
    return y;
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
    };
  }
}
tf.serialization.registerClass(KerasBatchNormalization);

/**
 * Batch norm with batch statistics over the last axis on the backend's own kernels (BN_TRAIN, see
 * lib/backend/onednn-kernels), with gradients for x, gamma and beta. `onStats` gets the batch mean
 * and (biased) variance for the moving averages (they carry no gradient, and live only during the call).
 */
function trainingBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor | null,
  beta: tf.Tensor | null,
  epsilon: number,
  onStats: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor {
  const engine = tf.engine();
  const inputs = [x, gamma, beta].filter((t): t is tf.Tensor => t !== null);
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (t: tf.Tensor[]) => void;
    const xIn = args[0] as tf.Tensor;
    const scale = gamma ? (args[1] as tf.Tensor) : undefined;
    const offset = beta ? (args[gamma ? 2 : 1] as tf.Tensor) : undefined;
    const kernelInputs = { x: xIn, ...(scale ? { scale } : {}), ...(offset ? { offset } : {}) };
    const stats = engine.runKernel(BN_TRAIN, kernelInputs, { epsilon } as never) as tf.Tensor[];
    save([xIn, stats[1], stats[2], ...(scale ? [scale] : [])]);
    onStats(stats[1], stats[2]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, mean, variance, sc] = saved;
      const [dx, dscale, doffset] = engine.runKernel(
        BN_TRAIN_GRAD,
        { x: xs, dy, mean, variance, ...(sc ? { scale: sc } : {}), ...(offset ? { offset } : {}) },
        { epsilon } as never,
      ) as tf.Tensor[];
      return [dx, ...(scale ? [dscale] : []), ...(offset ? [doffset] : [])];
    };
    return { value: stats[0], gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs);
}

/**
 * Inference-mode batch norm for a frozen layer inside a training step: one fused kernel forward
 * (tfjs' own FusedBatchNorm gradient would compute the gradients of mean, variance, scale and
 * offset too, each a pass over x), and dx = dy * scale / sqrt(variance + epsilon), one pass back.
 * mean, variance, gamma and beta are constants here (the layer is frozen).
 */
export function frozenBatchNorm(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor | null,
  beta: tf.Tensor | null,
  epsilon: number,
): tf.Tensor {
  const op = tf.customGrad(((xIn: tf.Tensor) => {
    const value = tf.batchNorm(xIn, mean, variance, beta ?? undefined, gamma ?? undefined, epsilon);
    const gradFunc = (dy: tf.Tensor) => {
      let k = tf.rsqrt(tf.add(variance, epsilon));
      if (gamma) k = tf.mul(k, gamma);
      return tf.mul(dy, k);
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

/** Does `model` normalise anywhere (this module's layer, or tfjs' own)? VGG16 does not. */
export function hasBatchNorm(model: tf.LayersModel): boolean {
  return model.layers.some(
    (l) => l instanceof KerasBatchNormalization || l.getClassName() === 'BatchNormalization',
  );
}

/** Keras-style factory: `batchNormalization({ epsilon: 1.001e-5, name: 'conv1_bn' })`. */
export function kerasBatchNormalization(
  args?: KerasBatchNormalizationArgs,
): KerasBatchNormalization {
  return new KerasBatchNormalization(args);
}

/**
 * Precise BatchNormalization statistics: set every (trainable) BN layer's moving mean and variance
 * to the plain average over `batches` of the statistics a training-mode forward pass sees. After a
 * short training run, Keras' exponential moving averages (momentum 0.99) still hold much of their
 * starting values (0 and 1); inference then normalises with the wrong numbers. No weight changes.
 * Returns the number of batches used.
 */
export function recalibrateBatchNorm(model: tf.LayersModel, batches: Iterable<tf.Tensor>): number {
  const layers = model.layers.filter(
    (l): l is KerasBatchNormalization => l instanceof KerasBatchNormalization && !l.isFrozen(),
  );
  if (layers.length === 0) return 0; // e.g. VGG16: nothing to compute, no batch drawn
  const momenta = layers.map((l) => l.momentum);
  let seen = 0;
  try {
    for (const x of batches) {
      // Batch k (0-based) gets weight 1/(k+1): moving = k/(k+1) * moving + 1/(k+1) * batch = running mean.
      for (const l of layers) l.momentum = seen / (seen + 1);
      tf.tidy(() => {
        model.apply(x, { training: true });
      });
      seen++;
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = momenta[i]));
  }
  return seen;
}
