// Classification heads from a typed list of layers, and the heads of the three notebooks.
//
// buildHead(base, spec) applies the head to base.outputs and returns ONE functional model over the
// base's inputs: the base's layers stay at the top level with their indices (model.layers[:249] means
// what it means in Keras), which freeze({upTo}) and block-boundary caching rely on.
import * as tf from '@tensorflow/tfjs';

export type HeadLayerSpec =
  /** GlobalAveragePooling2D. `optional`: skipped when the base already pools (Keras pooling='avg'). */
  | { type: 'globalAveragePooling'; optional?: boolean; name?: string }
  | { type: 'flatten'; name?: string }
  | { type: 'dense'; units: number; activation?: ActivationName; l2?: number; name?: string }
  | { type: 'batchNormalization'; momentum?: number; epsilon?: number; name?: string }
  | { type: 'activation'; activation: ActivationName; name?: string }
  | { type: 'dropout'; rate: number; seed?: number; name?: string }
  /** The classifier: Dense(classes, activation='softmax'). */
  | { type: 'output'; classes: number; activation?: ActivationName; l2?: number; name?: string };

export type ActivationName =
  'relu' | 'softmax' | 'linear' | 'sigmoid' | 'tanh' | 'elu' | 'selu' | 'swish' | 'gelu';

export type HeadSpec = HeadLayerSpec[];

const boundaries = new WeakMap<tf.LayersModel, string>();

/**
 * The layer buildHead attached the head to (the base's output layer), if `model` came from buildHead
 * — also after a save and load: it travels in the model's user-defined metadata.
 */
export function headBoundary(model: tf.LayersModel): string | undefined {
  const meta = model.getUserDefinedMetadata() as { headBoundary?: unknown } | undefined;
  return (
    boundaries.get(model) ??
    (typeof meta?.headBoundary === 'string' ? meta.headBoundary : undefined)
  );
}

function regularizer(l2: number | undefined, where: string) {
  if (l2 === undefined || l2 === 0) return undefined;
  if (!(l2 > 0)) throw new Error(`buildHead: ${where}: l2 must be > 0 (got ${l2}).`);
  return tf.regularizers.l2({ l2 });
}

function makeLayer(spec: HeadLayerSpec, i: number): tf.layers.Layer {
  const where = `layer ${i} (${spec.type})`;
  const name = spec.name ? { name: spec.name } : {};
  switch (spec.type) {
    case 'globalAveragePooling':
      return tf.layers.globalAveragePooling2d({ ...name });
    case 'flatten':
      return tf.layers.flatten({ ...name });
    case 'dense':
    case 'output': {
      const units = spec.type === 'dense' ? spec.units : spec.classes;
      if (!(Number.isInteger(units) && units > 0))
        throw new Error(
          `buildHead: ${where}: ${spec.type === 'dense' ? 'units' : 'classes'} must be a positive integer (got ${units}).`,
        );
      const activation = spec.activation ?? (spec.type === 'output' ? 'softmax' : 'linear');
      return tf.layers.dense({
        units,
        activation,
        kernelRegularizer: regularizer(spec.l2, where),
        ...name,
      });
    }
    case 'batchNormalization':
      // Keras defaults (momentum 0.99, epsilon 1e-3); a head's BN is trainable, so tfjs' layer is exact.
      return tf.layers.batchNormalization({
        momentum: spec.momentum ?? 0.99,
        epsilon: spec.epsilon ?? 1e-3,
        ...name,
      });
    case 'activation':
      return tf.layers.activation({ activation: spec.activation, ...name });
    case 'dropout':
      if (!(spec.rate >= 0 && spec.rate < 1))
        throw new Error(`buildHead: ${where}: rate must be in [0, 1) (got ${spec.rate}).`);
      return tf.layers.dropout({ rate: spec.rate, seed: spec.seed, ...name });
    default:
      throw new Error(
        `buildHead: ${where}: unknown layer type "${(spec as { type: string }).type}". Use globalAveragePooling, flatten, dense, batchNormalization, activation, dropout or output.`,
      );
  }
}

/**
 * Attach a head to a base: Keras `x = base.output; x = ...(x); Model(base.input, out)`.
 * The result keeps the base's layers (shared, same weights) followed by the head's.
 */
export function buildHead(
  base: tf.LayersModel,
  spec: HeadSpec,
  opts: { name?: string } = {},
): tf.LayersModel {
  if (!base || !Array.isArray(base.outputs))
    throw new Error(
      'buildHead: the first argument must be a tf.LayersModel (e.g. await vgg16({ includeTop: false })).',
    );
  if (base.outputs.length !== 1)
    throw new Error(
      `buildHead: base "${base.name}" has ${base.outputs.length} outputs; a head needs exactly one.`,
    );
  if (!Array.isArray(spec) || spec.length === 0)
    throw new Error(
      'buildHead: the head spec is empty; use a preset such as HEADS.vgg16Gtsrb() or a list of layers.',
    );
  const last = spec[spec.length - 1];
  if (last.type !== 'output')
    throw new Error(
      `buildHead: the last layer of a head must be { type: 'output', classes } (got "${last.type}").`,
    );
  let x = base.outputs[0];
  spec.forEach((s, i) => {
    if (s.type === 'globalAveragePooling' && x.rank === 2) {
      if (s.optional) return;
      throw new Error(
        `buildHead: layer ${i} (globalAveragePooling) needs a feature map [h, w, c] but base "${base.name}" already outputs a vector [${x.shape.slice(1)}] (built with pooling). Drop the pooling layer from the spec or build the base without pooling.`,
      );
    }
    if ((s.type === 'dense' || s.type === 'output') && x.rank > 2) {
      throw new Error(
        `buildHead: layer ${i} (${s.type}) gets a [${x.shape.slice(1)}] feature map; put { type: 'globalAveragePooling' } or { type: 'flatten' } before it.`,
      );
    }
    x = makeLayer(s, i).apply(x) as tf.SymbolicTensor;
  });
  const model = tf.model({
    inputs: base.inputs,
    outputs: x,
    name: opts.name ?? `${base.name}_head`,
  });
  const boundary = base.outputs[0].sourceLayer.name;
  boundaries.set(model, boundary);
  model.setUserDefinedMetadata({
    ...(model.getUserDefinedMetadata() ?? {}),
    headBoundary: boundary,
  });
  return model;
}

// ---------------------------------------------------------------------------------------------
// The notebooks' heads (HEADS.resnet50Cars in 01, inceptionV3Cars in 02, vgg16Gtsrb in 03). Each preset is a function so a re-run with another dropout or class count
// is one argument: HEADS.vgg16Gtsrb({ dropout: 0.4 }).

export const HEADS = {
  /** ResNet50 on Stanford Cars: (pooling='avg') → BN → Dense(512, relu, L2 5e-4) → Dropout(0.6) → Dense(196, softmax, L2 5e-4). */
  resnet50Cars(
    o: { classes?: number; units?: number; dropout?: number; l2?: number } = {},
  ): HeadSpec {
    const l2 = o.l2 ?? 5e-4;
    return [
      { type: 'globalAveragePooling', optional: true },
      { type: 'batchNormalization' },
      { type: 'dense', units: o.units ?? 512, activation: 'relu', l2 },
      { type: 'dropout', rate: o.dropout ?? 0.6 },
      { type: 'output', classes: o.classes ?? 196, activation: 'softmax', l2 },
    ];
  },
  /** InceptionV3 on Stanford Cars: GAP → [Dense(512, L2 1e-3) → BN → ReLU → Dropout(0.5)] → [Dense(256, …) → BN → ReLU → Dropout(0.5)] → Dense(196, softmax, L2 1e-3). */
  inceptionV3Cars(
    o: { classes?: number; units?: readonly [number, number]; dropout?: number; l2?: number } = {},
  ): HeadSpec {
    const l2 = o.l2 ?? 1e-3;
    const rate = o.dropout ?? 0.5;
    const [u1, u2] = o.units ?? [512, 256];
    return [
      { type: 'globalAveragePooling' },
      { type: 'dense', units: u1, l2 },
      { type: 'batchNormalization' },
      { type: 'activation', activation: 'relu' },
      { type: 'dropout', rate },
      { type: 'dense', units: u2, l2 },
      { type: 'batchNormalization' },
      { type: 'activation', activation: 'relu' },
      { type: 'dropout', rate },
      { type: 'output', classes: o.classes ?? 196, activation: 'softmax', l2 },
    ];
  },
  /** VGG16 on GTSRB-40: Flatten → Dense(128, relu) → Dropout(0.6) → Dense(43, softmax). */
  vgg16Gtsrb(o: { classes?: number; units?: number; dropout?: number } = {}): HeadSpec {
    return [
      { type: 'flatten' },
      { type: 'dense', units: o.units ?? 128, activation: 'relu' },
      { type: 'dropout', rate: o.dropout ?? 0.6 },
      { type: 'output', classes: o.classes ?? 43, activation: 'softmax' },
    ];
  },
} as const;
