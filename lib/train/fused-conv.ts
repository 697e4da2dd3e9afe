// A Conv2D layer's call inside a training step as one fused kernel (convolution + bias + relu),
// with its gradient.
//
// Under a gradient tape tfjs splits a layer's relu convolution into Conv2D, Add and Relu (its fused
// op has no relu gradient there), and its fused linear convolution computes the input's gradient
// even for an input nothing trainable precedes. Here the forward is one FusedConv2D kernel and the
// backward is one pass for relu + bias (native on 'onednn') and the two convolution gradients,
// each computed only when something needs it: dx when the input depends on a trainable weight,
// dw and db when the layer trains.
import * as tf from '@tensorflow/tfjs';
import { BIAS_ACT_GRAD } from '../backend/onednn-kernels';

/** The parts of tfjs' Conv2D layer this reads (public in its JS, protected in its typings). */
interface ConvLayer {
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string } | null;
  activityRegularizer?: unknown;
  rank: number;
  trainable: boolean;
}

type Act = 'relu' | 'linear';

/** The activation when `layer` is a Conv2D this module can run (NHWC, no dilation, relu/linear). */
export function fusableConv(layer: tf.layers.Layer): Act | null {
  if (layer.getClassName() !== 'Conv2D') return null;
  const c = layer as unknown as ConvLayer;
  const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate, c.dilationRate];
  if (
    c.rank !== 2 ||
    c.dataFormat !== 'channelsLast' ||
    dil.some((d) => d !== 1) ||
    c.activityRegularizer
  )
    return null;
  if (!c.kernel || (c.padding !== 'same' && c.padding !== 'valid')) return null;
  const act = (c.activation?.getClassName() ?? 'linear').toLowerCase();
  return act === 'relu' || act === 'linear' ? act : null;
}

/**
 * `layer`'s output for `x` (4-D, NHWC), recorded on the tape as one op. `inputNeedsGrad`: whether
 * anything trainable precedes x (else no dx is computed).
 */
export function fusedConvCall(
  layer: tf.layers.Layer,
  x: tf.Tensor,
  inputNeedsGrad: boolean,
): tf.Tensor {
  const act = fusableConv(layer);
  if (!act) throw new Error(`fusedConvCall: layer "${layer.name}" is not a fusable Conv2D.`);
  const c = layer as unknown as ConvLayer;
  const w = c.kernel!.read();
  const b = c.bias ? c.bias.read() : null;
  const strides = c.strides as [number, number];
  const pad = c.padding as 'same' | 'valid';
  const trainsWeights = layer.trainable && layer.trainableWeights.length > 0;
  const engine = tf.engine();
  const convAttrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };

  // Only the inputs that need a gradient go through customGrad; the others are constants to it.
  const inputs: tf.Tensor[] = [];
  if (inputNeedsGrad) inputs.push(x);
  if (trainsWeights) inputs.push(w);
  if (trainsWeights && b) inputs.push(b);
  const forward = (): tf.Tensor =>
    engine.runKernel('FusedConv2D', b ? { x, filter: w, bias: b } : { x, filter: w }, {
      ...convAttrs,
      dilations: [1, 1],
      activation: act,
      leakyreluAlpha: undefined,
    } as never) as tf.Tensor;
  if (inputs.length === 0) return forward();

  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (t: tf.Tensor[]) => void;
    const y = forward();
    // Saved, not captured: the tape disposes the forward's intermediates (x may be one) before backward.
    save([y, x, w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [yOut, xIn, wIn] = saved;
      let dyAct: tf.Tensor;
      let db: tf.Tensor | null = null;
      const wantDb = trainsWeights && b !== null;
      if (
        tf.getKernel(BIAS_ACT_GRAD, tf.getBackend()) &&
        dy.dtype === 'float32' &&
        (act === 'relu' || wantDb)
      ) {
        const outs = engine.runKernel(
          BIAS_ACT_GRAD,
          act === 'relu' ? { dy, y: yOut } : { dy },
          {},
        ) as tf.Tensor[];
        [dyAct, db] = act === 'relu' ? [outs[0], outs[1]] : [dy, outs[0]];
      } else {
        dyAct = act === 'relu' ? tf.mul(dy, tf.step(yOut)) : dy;
        if (wantDb) db = tf.sum(dyAct, [0, 1, 2]);
      }
      const backprop = (kernel: string, ins: tf.NamedTensorMap, shape: Record<string, number[]>) =>
        engine.runKernel(kernel, ins, { ...convAttrs, ...shape } as never) as tf.Tensor;
      const grads: tf.Tensor[] = [];
      if (inputNeedsGrad)
        grads.push(
          backprop('Conv2DBackpropInput', { dy: dyAct, filter: wIn }, { inputShape: xIn.shape }),
        );
      if (trainsWeights) {
        grads.push(
          backprop('Conv2DBackpropFilter', { x: xIn, dy: dyAct }, { filterShape: wIn.shape }),
        );
        if (b) grads.push(db!);
      }
      return grads;
    };
    return { value: y, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs);
}

/** True for an Activation('relu') layer (ResNet50 and InceptionV3 put one after every batch norm). */
export function isReluLayer(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Activation') return false;
  const act = (layer as unknown as { activation?: { getClassName(): string } }).activation;
  return (
    act?.getClassName().toLowerCase() === 'relu' &&
    !(layer as unknown as ConvLayer).activityRegularizer
  );
}

/**
 * relu(x) recorded as one op whose backward is one pass (dy where y > 0) on 'onednn', instead of
 * tfjs' step(x) then multiply.
 */
export function reluCall(x: tf.Tensor): tf.Tensor {
  const engine = tf.engine();
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (t: tf.Tensor[]) => void;
    const y = tf.relu(args[0] as tf.Tensor);
    save([y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [yOut] = saved;
      if (tf.getKernel(BIAS_ACT_GRAD, tf.getBackend()) && dy.dtype === 'float32') {
        return (engine.runKernel(BIAS_ACT_GRAD, { dy, y: yOut }, {}) as tf.Tensor[])[0];
      }
      return tf.mul(dy, tf.step(yOut));
    };
    return { value: y, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}
