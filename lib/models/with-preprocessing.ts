// The VGG16 walkthrough puts preprocess_input inside the model (inputs -> preprocess -> base), so the
// model takes raw 0-255 pixels. Keras nests the base as one layer; we instead rebuild the base's
// graph on top of a PreprocessInput layer, sharing every layer (and weight) with the base. The
// base's layers stay at the top level, shifted by one index, so freezing by position and caching
// features at a block boundary keep working.
import * as tf from '@tensorflow/tfjs';
import { preprocessInputLayer, type PreprocessMode } from '../data/preprocess';

type Sym = tf.SymbolicTensor;

/** Returns `inputs -> PreprocessInput(mode) -> base` as one functional model (layers shared with `base`). */
export function withPreprocessing(
  base: tf.LayersModel,
  mode: PreprocessMode,
  opts: { name?: string } = {},
): tf.LayersModel {
  if (base.inputs.length !== 1)
    throw new Error(
      `withPreprocessing: ${base.name} has ${base.inputs.length} inputs; it expects one image input.`,
    );
  const shape = base.inputs[0].shape.slice(1);
  const input = tf.input({ shape, name: 'input_image' });
  const pre = preprocessInputLayer({ mode, name: 'preprocess_input' }).apply(input) as Sym;
  // Map each symbolic tensor of the base's graph to its counterpart in the new graph.
  const mapped = new Map<number, Sym>([[base.inputs[0].id, pre]]);
  for (const layer of base.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    // The node of this layer that belongs to the base's graph: the one whose inputs are all known.
    const node = layer.inboundNodes.find(
      (n) => n.inputTensors.length > 0 && n.inputTensors.every((t) => mapped.has(t.id)),
    );
    if (!node)
      throw new Error(
        `withPreprocessing: layer ${layer.name} of ${base.name} is not connected to its input; pass a base built by vgg16/resnet50/inceptionV3.`,
      );
    const ins = node.inputTensors.map((t) => mapped.get(t.id)!);
    const out = layer.apply(ins.length === 1 ? ins[0] : ins) as Sym | Sym[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]));
  }
  const outputs = base.outputs.map((t) => {
    const m = mapped.get(t.id);
    if (!m) throw new Error(`withPreprocessing: output ${t.name} of ${base.name} was not rebuilt.`);
    return m;
  });
  return tf.model({ inputs: input, outputs, name: opts.name ?? base.name });
}
