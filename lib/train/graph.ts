// Running a functional model layer by layer.
//
// Why not model.apply()? tfjs' LayersModel.apply() drops the `training` flag on the way to the
// layers (Dropout would never drop), and it can only start at the model's inputs. Walking the graph
// ourselves gives Keras semantics (a frozen BatchNormalization runs in inference mode even while the
// rest trains) and lets training start at a block boundary, from cached features.
import * as tf from '@tensorflow/tfjs';
import { fusableConv, fusedConvCall, isReluLayer, reluCall } from './fused-conv';
import { checkBatchShape } from '../models/input-shape';

type Layer = tf.layers.Layer;
type SymbolicTensor = tf.SymbolicTensor;

/** The private parts of tfjs' graph we read (stable since tfjs-layers 1.x). */
interface GraphNode {
  outboundLayer: Layer;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}
function inboundNode(t: SymbolicTensor): GraphNode {
  return (t.sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[t.nodeIndex];
}
const isInputLayer = (layer: Layer) => layer.getClassName() === 'InputLayer';
const isModel = (layer: Layer): layer is tf.LayersModel => layer instanceof tf.LayersModel;

/** One layer call in execution order. */
export interface GraphStep {
  layer: Layer;
  node: GraphNode;
}

/** An ordered list of layer calls from some feed tensors to some fetch tensors of one model. */
export interface GraphPlan {
  model: tf.LayersModel;
  /** Symbolic tensors fed from outside (model inputs, or a boundary layer's output). */
  feeds: SymbolicTensor[];
  fetches: SymbolicTensor[];
  steps: GraphStep[];
}

/**
 * Plan the calls that compute `fetches` from `feeds`. With `from` (a layer name) the feed is that
 * layer's output, and every path from the model's input to the outputs must pass through it.
 */
export function planGraph(
  model: tf.LayersModel,
  opts: { from?: string; to?: string } = {},
): GraphPlan {
  const feeds = new Map<number, SymbolicTensor>();
  const steps: GraphStep[] = [];
  const done = new Set<GraphNode>();
  let fetches: SymbolicTensor[] = model.outputs;
  if (opts.to !== undefined) {
    const found = findLayerOutput(model, opts.to);
    fetches = [found];
  }
  if (opts.from === undefined) for (const t of model.inputs) feeds.set(t.id, t);
  else findLayerOutput(model, opts.from); // a clear message for a name that is not there at all

  const visit = (t: SymbolicTensor): void => {
    if (feeds.has(t.id)) return;
    const layer = t.sourceLayer;
    if (opts.from !== undefined && layer.name === opts.from) {
      feeds.set(t.id, t);
      return;
    }
    if (isInputLayer(layer)) {
      throw new Error(
        opts.from !== undefined
          ? `Model "${model.name}": a path from input "${layer.name}" reaches the output without passing layer ` +
              `"${opts.from}", so the model cannot be split there. Choose a layer every path goes through ` +
              `(a block output such as 'block4_pool', 'mixed8' or 'conv5_block2_out').`
          : `Model "${model.name}": input "${layer.name}" is not one of the model's inputs.`,
      );
    }
    const node = inboundNode(t);
    if (done.has(node)) return;
    for (const input of node.inputTensors) visit(input);
    done.add(node);
    steps.push({ layer, node });
  };
  for (const t of fetches) visit(t);
  if (opts.from !== undefined && feeds.size > 1) {
    throw new Error(
      `Model "${model.name}": layer "${opts.from}" is called more than once; cannot split there.`,
    );
  }
  return { model, feeds: [...feeds.values()], fetches, steps };
}

/** The output tensor of the named layer as it appears in this model's graph. */
export function findLayerOutput(model: tf.LayersModel, name: string): SymbolicTensor {
  const seen = new Set<number>();
  const stack = [...model.outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.sourceLayer.name === name) return t;
    if (!isInputLayer(t.sourceLayer)) stack.push(...inboundNode(t).inputTensors);
  }
  throw new Error(
    `Model "${model.name}" has no layer named "${name}" on the path to its output. Check the name with ` +
      `model.layers.map(l => l.name); a base applied as one nested layer hides its layers (build the model ` +
      `with buildHead, which keeps the base's layers at the top level).`,
  );
}

/**
 * Keras (TF2) runs a frozen BatchNormalization in inference mode, whatever `training` says. tfjs'
 * own layer does not, so we tell it. lib/models' KerasBatchNormalization decides by itself, and
 * needs to know it is inside a training step (it then avoids a fused kernel without gradients).
 */
function trainingFor(layer: Layer, training: boolean): boolean {
  if (!training) return false;
  if (!layer.trainable && layer.getClassName() === 'BatchNormalization') return false;
  return true;
}

/**
 * Execute a plan on concrete tensors (one per feed, in `plan.feeds` order). Returns the fetches.
 * Call inside tf.tidy (intermediate tensors are not disposed here, the gradient tape may need them).
 */
export function runPlan(plan: GraphPlan, inputs: tf.Tensor[], training: boolean): tf.Tensor[] {
  if (inputs.length !== plan.feeds.length) {
    throw new Error(`runPlan: ${plan.feeds.length} input(s) expected, got ${inputs.length}.`);
  }
  plan.feeds.forEach((t, i) => checkBatchShape(t.shape.slice(1), inputs[i], '', plan.model.name));
  const values = new Map<number, tf.Tensor>();
  plan.feeds.forEach((t, i) => values.set(t.id, inputs[i]));
  // On a gradient tape: which tensors depend on a trainable weight (the feeds are constants).
  const recording = training && tapeIsOn();
  const dependent = new Set<number>();
  for (const { layer, node } of plan.steps) {
    const args = node.inputTensors.map((t) => values.get(t.id)!);
    let outs: tf.Tensor[];
    if (
      recording &&
      (layer.trainableWeights.length > 0 || node.inputTensors.some((t) => dependent.has(t.id)))
    ) {
      node.outputTensors.forEach((t) => dependent.add(t.id));
    }
    if (recording && args.length === 1 && args[0].rank === 4 && fusableConv(layer)) {
      // One fused kernel with its gradient instead of tfjs' Conv2D + Add + Relu under the tape.
      outs = [fusedConvCall(layer, args[0], dependent.has(node.inputTensors[0].id))];
    } else if (
      recording &&
      args.length === 1 &&
      args[0].dtype === 'float32' &&
      isReluLayer(layer) &&
      dependent.has(node.inputTensors[0].id)
    ) {
      outs = [reluCall(args[0])];
    } else if (isModel(layer)) {
      // A nested model: walk its graph too so its Dropout/BatchNormalization see `training`. A frozen
      // nested model runs in inference mode (tfjs does not mark its sublayers frozen, Keras does).
      const explicit = node.callArgs?.training;
      outs = runPlan(
        nestedPlan(layer),
        args,
        typeof explicit === 'boolean' ? explicit && training : layer.trainable && training,
      );
    } else {
      const kwargs: Record<string, unknown> = { ...(node.callArgs ?? {}) };
      // An explicit `training` in the call (base(x, training=False)) wins, as in Keras.
      if (typeof kwargs.training !== 'boolean') kwargs.training = trainingFor(layer, training);
      else kwargs.training = (kwargs.training as boolean) && training;
      delete kwargs.mask;
      const out = layer.apply(args.length === 1 ? args[0] : args, kwargs) as
        tf.Tensor | tf.Tensor[];
      outs = Array.isArray(out) ? out : [out];
    }
    node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]));
  }
  return plan.fetches.map((t) => values.get(t.id)!);
}

/** True inside tf.grads / variableGrads (tfjs records ops then); the engine's state is not in its typings. */
function tapeIsOn(): boolean {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
  return state.gradientDepth > 0;
}

const nestedPlans = new WeakMap<tf.LayersModel, GraphPlan>();
function nestedPlan(model: tf.LayersModel): GraphPlan {
  let plan = nestedPlans.get(model);
  if (!plan) nestedPlans.set(model, (plan = planGraph(model)));
  return plan;
}

/** The distinct layers a plan calls (nested models count as one layer). */
export function planLayers(plan: GraphPlan): Layer[] {
  return [...new Set(plan.steps.map((s) => s.layer))];
}

/** Trainable variables of the layers a plan calls, deduplicated, in order. */
export function planTrainableVariables(plan: GraphPlan): tf.Variable[] {
  const vars = new Map<string, tf.Variable>();
  for (const layer of planLayers(plan)) {
    for (const w of layer.trainableWeights) {
      const v = (w as unknown as { read(): tf.Variable }).read();
      vars.set(v.name, v);
    }
  }
  return [...vars.values()];
}

/**
 * A model from the input up to (and including) the named layer: it shares the layers (and so the
 * weights) of `model`. Keras: Model(model.input, model.get_layer(name).output).
 */
export function bottomModel(model: tf.LayersModel, layerName: string): tf.LayersModel {
  return tf.model({
    inputs: model.inputs,
    outputs: findLayerOutput(model, layerName),
    name: `${model.name}_to_${layerName}`,
  });
}

/**
 * Split a functional model at a layer every path goes through: `bottom` maps the input to that
 * layer's output, `top` maps that output to the model's output. Both share the model's layers and
 * weights (training `top` trains `model`). Keras: Model(inp, mid) and a Model built by calling the
 * later layers on a new Input. trainPhase does not need this (it walks the graph from cached
 * features itself); it is for predicting from features, or inspecting the parts.
 */
export function splitModel(
  model: tf.LayersModel,
  layerName: string,
): { bottom: tf.LayersModel; top: tf.LayersModel } {
  const plan = planGraph(model, { from: layerName });
  const boundary = plan.feeds[0];
  const input = tf.input({
    shape: boundary.shape.slice(1) as number[],
    name: `${layerName}_features`,
  });
  const mapped = new Map<number, SymbolicTensor>([[boundary.id, input]]);
  for (const { layer, node } of plan.steps) {
    const args = node.inputTensors.map((t) => mapped.get(t.id)!);
    const out = layer.apply(args.length === 1 ? args[0] : args, node.callArgs ?? {}) as
      SymbolicTensor | SymbolicTensor[];
    (Array.isArray(out) ? out : [out]).forEach((t, i) => mapped.set(node.outputTensors[i].id, t));
  }
  const top = tf.model({
    inputs: input,
    outputs: plan.fetches.map((t) => mapped.get(t.id)!),
    name: `${model.name}_from_${layerName}`,
  });
  return { bottom: bottomModel(model, layerName), top };
}

/**
 * Split a plan where training starts: `frozen` computes, from the plan's feeds, every tensor that no
 * trainable weight influences and that the rest needs; `trainable` runs the remaining calls from
 * those tensors. A training step runs `frozen` outside the gradient tape (as PyTorch records nothing
 * for frozen layers), so its activations are freed at once and frozen batch norms run fused.
 * `frozen` has no steps when the first layer already trains.
 */
export function splitAtTrainable(plan: GraphPlan): { frozen: GraphPlan; trainable: GraphPlan } {
  const dependent = new Set<number>(); // ids of tensors some trainable weight influences
  const frozenSteps: GraphStep[] = [];
  const trainableSteps: GraphStep[] = [];
  for (const step of plan.steps) {
    const trains =
      step.layer.trainableWeights.length > 0 ||
      step.node.inputTensors.some((t) => dependent.has(t.id));
    if (trains) step.node.outputTensors.forEach((t) => dependent.add(t.id));
    (trains ? trainableSteps : frozenSteps).push(step);
  }
  // The boundary: constant tensors that trainable calls read, and constant fetches.
  const boundary = new Map<number, SymbolicTensor>();
  for (const { node } of trainableSteps)
    for (const t of node.inputTensors) if (!dependent.has(t.id)) boundary.set(t.id, t);
  for (const t of plan.fetches) if (!dependent.has(t.id)) boundary.set(t.id, t);
  const mid = [...boundary.values()];
  return {
    frozen: { model: plan.model, feeds: plan.feeds, fetches: mid, steps: frozenSteps },
    trainable: { model: plan.model, feeds: mid, fetches: plan.fetches, steps: trainableSteps },
  };
}
