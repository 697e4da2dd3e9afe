// Freezing and unfreezing layers the way Keras code does it, by position or name.
//
//   Keras                                          here
//   base.trainable = False                         freeze(base)
//   for l in model.layers[:249]: l.trainable=False freeze(model, { upTo: 249 })   (exclusive, like [:249])
//   for l in model.layers[249:]: l.trainable=True  unfreeze(model, { from: 249 })
//   for l in base.layers[-8:]: l.trainable=True    unfreeze(base, { lastN: 8 })
//   for l in model.layers:                         freeze(model, { ofClass: 'BatchNormalization' })
//     if isinstance(l, BatchNormalization): l.trainable = False
//
// As in Keras, a change takes effect for training at the next `compile()`.
import * as tf from '@tensorflow/tfjs';

export interface LayerSelection {
  /** Layers before this index, or before the layer with this name: Python's `layers[:upTo]`. */
  upTo?: number | string;
  /** Layers from this index (or layer name) on: Python's `layers[from:]`. */
  from?: number | string;
  /** The last N layers: Python's `layers[-N:]`. */
  lastN?: number;
  /** Layers with these names. */
  names?: string[];
  /**
   * Only layers of this class (Keras `isinstance`), among the selected ones or all when nothing else
   * is selected: 'BatchNormalization' matches tfjs' layer and the Keras-faithful one.
   */
  ofClass?: string;
}

const classOf = (l: Layer) => l.getClassName().replace(/^Keras(?=BatchNormalization$)/, '');

type Layer = tf.layers.Layer;
const isContainer = (l: Layer): l is tf.LayersModel => Array.isArray((l as tf.LayersModel).layers);

function indexOf(model: tf.LayersModel, at: number | string, fn: string): number {
  if (typeof at === 'number') {
    if (!Number.isInteger(at)) throw new Error(`${fn}: index ${at} must be an integer.`);
    return at < 0 ? Math.max(0, model.layers.length + at) : Math.min(at, model.layers.length);
  }
  const i = model.layers.findIndex((l) => l.name === at);
  if (i < 0)
    throw new Error(
      `${fn}: model "${model.name}" has no layer named "${at}". ${nearby(model, at)}`,
    );
  return i;
}

function nearby(model: tf.LayersModel, name: string): string {
  const stem = name.replace(/[_\d]+$/, '');
  const similar = model.layers
    .map((l) => l.name)
    .filter((n) => n.startsWith(stem))
    .slice(0, 8);
  return similar.length
    ? `Similar names: ${similar.join(', ')}.`
    : 'See modelSummary(model) for the names.';
}

/** The layers a selection names (all layers when the selection is empty), in model order. */
export function selectLayers(
  model: tf.LayersModel,
  sel: LayerSelection = {},
  fn = 'selectLayers',
): Layer[] {
  const layers = model.layers;
  const picked = new Set<number>();
  const any =
    sel.upTo !== undefined ||
    sel.from !== undefined ||
    sel.lastN !== undefined ||
    sel.names !== undefined;
  if (!any) layers.forEach((_, i) => picked.add(i));
  if (sel.upTo !== undefined) for (let i = 0; i < indexOf(model, sel.upTo, fn); i++) picked.add(i);
  if (sel.from !== undefined)
    for (let i = indexOf(model, sel.from, fn); i < layers.length; i++) picked.add(i);
  if (sel.lastN !== undefined) {
    if (!Number.isInteger(sel.lastN) || sel.lastN < 0)
      throw new Error(`${fn}: lastN must be a whole number >= 0 (got ${sel.lastN}).`);
    for (let i = Math.max(0, layers.length - sel.lastN); i < layers.length; i++) picked.add(i);
  }
  for (const name of sel.names ?? []) picked.add(indexOf(model, name, fn));
  const chosen = [...picked].sort((a, b) => a - b).map((i) => layers[i]);
  if (sel.ofClass === undefined) return chosen;
  const known = new Set(layers.map(classOf));
  if (!known.has(sel.ofClass))
    throw new Error(
      `${fn}: model "${model.name}" has no layer of class "${sel.ofClass}". ` +
        `Its classes: ${[...known].sort().join(', ')}.`,
    );
  return chosen.filter((l) => classOf(l) === sel.ofClass);
}

/** Sets a layer's flag and, for a nested model, every layer inside it (tfjs' own setter does not). */
function setTrainable(layer: Layer, value: boolean): void {
  if (isContainer(layer)) {
    layer.layers.forEach((l) => setTrainable(l, value));
    // Flip only the container's own flag, leaving the per-layer flags just set.
    const states = layer.layers.map((l) => l.trainable);
    layer.trainable = value;
    layer.layers.forEach((l, i) => setTrainable(l, states[i]));
  } else {
    layer.trainable = value;
  }
}

/** Keras `layer.trainable = False` on the selected layers (all when no selection). Returns them. */
export function freeze(model: tf.LayersModel, sel: LayerSelection = {}): Layer[] {
  const layers = selectLayers(model, sel, 'freeze');
  layers.forEach((l) => setTrainable(l, false));
  return layers;
}

/**
 * Keras `layer.trainable = True` on the selected layers (all when no selection); the model itself
 * is made trainable too, or its unfrozen layers would still train nothing.
 */
export function unfreeze(model: tf.LayersModel, sel: LayerSelection = {}): Layer[] {
  const layers = selectLayers(model, sel, 'unfreeze');
  layers.forEach((l) => setTrainable(l, true));
  if (!model.trainable && layers.length > 0) {
    const states = model.layers.map((l) => l.trainable);
    model.trainable = true;
    model.layers.forEach((l, i) => setTrainable(l, states[i]));
  }
  return layers;
}

const sizeOf = (ws: tf.LayerVariable[]) =>
  ws.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

export interface TrainableSummary {
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Per layer: index, name, whether it trains, and its parameter count. */
  layers: { index: number; name: string; trainable: boolean; params: number }[];
  /** Index ranges of trainable layers, e.g. [[249, 310]]. */
  trainableRanges: [number, number][];
  text: string;
}

/** Counts trainable / frozen params (as Keras' summary does) and which layer ranges train. */
export function trainableSummary(model: tf.LayersModel): TrainableSummary {
  const trainableParams = sizeOf(model.trainableWeights);
  const nonTrainableParams = sizeOf(model.nonTrainableWeights);
  const layers = model.layers.map((l, index) => ({
    index,
    name: l.name,
    // A layer trains when it has trainable weights under the model's flags (weightless layers follow their flag).
    trainable:
      model.trainable && (l.weights.length > 0 ? l.trainableWeights.length > 0 : l.trainable),
    params: l.countParams(),
  }));
  const ranges: [number, number][] = [];
  for (const l of layers) {
    if (!l.trainable || l.params === 0) continue;
    const last = ranges[ranges.length - 1];
    // Weightless layers between two trainable ones do not break a range.
    if (last && layers.slice(last[1] + 1, l.index).every((m) => m.params === 0)) last[1] = l.index;
    else ranges.push([l.index, l.index]);
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  const rangeText = ranges.length
    ? ranges
        .map(([a, b]) =>
          a === b ? `${a} ${layers[a].name}` : `${a}-${b} (${layers[a].name} … ${layers[b].name})`,
        )
        .join(', ')
    : 'none';
  const text = [
    `Model "${model.name}": ${layers.length} layers`,
    `Trainable params: ${fmt(trainableParams)}`,
    `Non-trainable params: ${fmt(nonTrainableParams)}`,
    `Total params: ${fmt(trainableParams + nonTrainableParams)}`,
    `Layers with trainable weights: ${rangeText}`,
  ].join('\n');
  return {
    totalParams: trainableParams + nonTrainableParams,
    trainableParams,
    nonTrainableParams,
    layers,
    trainableRanges: ranges,
    text,
  };
}
