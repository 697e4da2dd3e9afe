// Save / load a tfjs LayersModel (topology + weights, custom layers included) to a folder,
// without tfjs-node. Layout is tfjs' own: model.json + weights.bin (loadable by tf.loadLayersModel
// over HTTP too). Writing is atomic (lib/io): everything goes to a temporary sibling folder, which
// replaces the old checkpoint only once complete and checked, so a killed process or a full disk
// never leaves a half-written one.
//
// Frozen layers (trainable = false) do not change while the rest trains, so a checkpoint can keep
// their weights in one shared file beside it (`sharedFrozen`), written once per distinct set of
// values and named by their fingerprint; each save then writes only what training changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
// Register the custom layers a saved model may contain before any load.
import './batchnorm';
import '../data/preprocess';
import { tagWeightsOrigin, weightsOrigins, type WeightsOrigin } from './origin';
import { valueHash } from './value-hash';
import {
  loadable,
  removeLeftovers,
  replaceAtomically,
  writeFileAtomic,
  writeFileSynced,
} from '../io/atomic';

const ORIGINS_KEY = 'kerasApplicationWeights';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const FROZEN_PREFIX = 'frozen-weights-';

const isComplete = (dir: string) =>
  fs.existsSync(path.join(dir, MODEL_JSON)) && fs.existsSync(path.join(dir, WEIGHTS_BIN));

/** What to do about a damaged checkpoint folder. */
const REDO =
  'Save the model again (re-run the training cell), or delete the folder and load another checkpoint.';

/** Bytes a weight spec takes in weights.bin. */
function specBytes(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  if (s.quantization)
    return n * (s.quantization.dtype === 'uint8' ? 1 : s.quantization.dtype === 'float16' ? 2 : 2);
  return n * (s.dtype === 'bool' ? 1 : 4);
}

function readModelJson(file: string): tf.io.ModelJSON {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`loadModel: cannot read ${file} (${(e as Error).message}).`);
  }
  try {
    const json = JSON.parse(text) as tf.io.ModelJSON;
    if (!json || typeof json !== 'object' || !json.modelTopology)
      throw new Error('no modelTopology');
    return json;
  } catch (e) {
    throw new Error(
      `loadModel: ${file} is damaged or incomplete (${(e as Error).message}; ${text.length} bytes). ${REDO}`,
    );
  }
}

/** Read one weights file listed in model.json; its size must be exactly what the manifest lists. */
function readWeightsFile(
  file: string,
  listedIn: string,
  specs: tf.io.WeightsManifestEntry[],
): ArrayBuffer {
  const frozen = path.basename(file).startsWith(FROZEN_PREFIX);
  const whatIsIt = frozen
    ? `the frozen layers' weights shared by the checkpoints in ${path.dirname(file)}`
    : 'the weights';
  if (!fs.existsSync(file)) {
    throw new Error(
      `loadModel: ${file} (${whatIsIt}, listed in ${listedIn}) is missing. ` +
        (frozen ? 'Copy it along with the checkpoint folder, or save the model again.' : REDO),
    );
  }
  const b = fs.readFileSync(file);
  const want = specs.reduce((s, w) => s + specBytes(w), 0);
  if (b.byteLength !== want) {
    const how = b.byteLength < want ? 'incomplete' : 'damaged (longer than listed)';
    throw new Error(
      `loadModel: ${file} (${whatIsIt}) is ${how}: ${b.byteLength} bytes, but ${listedIn} lists ${want}. ` +
        (frozen ? 'Delete it and the checkpoints that use it, then save again.' : REDO),
    );
  }
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A tf.io handler that saves to / loads from a folder on disk. */
export function folderIOHandler(dirIn: string): tf.io.IOHandler {
  const dir = path.resolve(dirIn);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error(
          `saveModel(${dir}): binary model topologies are not supported; save a LayersModel.`,
        );
      }
      const weights = artifacts.weightData
        ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array(0);
      const extra = (artifacts as SplitArtifacts).extraManifest ?? [];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [
          { paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] },
          ...extra,
        ],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
      };
      removeLeftovers(dir, isComplete);
      await replaceAtomically(
        dir,
        (tmp) => {
          writeFileSynced(path.join(tmp, WEIGHTS_BIN), weights);
          writeFileSynced(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson)); // last: marks the folder complete
        },
        { directory: true },
      );
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const from = loadable(dir, isComplete);
      if (!from || !fs.existsSync(path.join(from, MODEL_JSON))) {
        throw new Error(
          `loadModel: no ${MODEL_JSON} in ${dir}. Pass the folder written by saveModel(model, dir) ` +
            '(a save that was interrupted before it finished leaves nothing to load).',
        );
      }
      const jsonFile = path.join(from, MODEL_JSON);
      const json = readModelJson(jsonFile);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.map((g) => {
          if (g.paths.length !== 1)
            return tf.io.CompositeArrayBuffer.join(
              g.paths.map((p) => fs.readFileSync(path.join(from, p)).buffer as ArrayBuffer),
            );
          return readWeightsFile(path.resolve(from, g.paths[0]), jsonFile, g.weights);
        });
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Artifacts with weights kept in other files (the shared frozen-weights file). */
interface SplitArtifacts extends tf.io.ModelArtifacts {
  extraManifest?: tf.io.WeightsManifestConfig;
}

type Layer = tf.layers.Layer;
const isContainer = (l: Layer): l is tf.LayersModel => Array.isArray((l as tf.LayersModel).layers);

/** Weights of frozen layers (layer.trainable false, looking inside nested models): they cannot change while training. */
export function frozenWeights(model: tf.LayersModel): Set<tf.LayerVariable> {
  const out = new Set<tf.LayerVariable>();
  const visit = (l: Layer) => {
    if (!l.trainable) l.weights.forEach((w) => out.add(w));
    else if (isContainer(l)) l.layers.forEach(visit);
  };
  model.layers.forEach(visit);
  return out;
}

export interface SaveModelOptions {
  includeOptimizer?: boolean;
  /**
   * Keep the frozen layers' weights in one file in this folder (`frozen-weights-<fingerprint>.bin`),
   * written only when no file with that fingerprint exists, and referenced from model.json.
   * Checkpoints of a model with a frozen base then write only the layers that train.
   */
  sharedFrozen?: string;
  /** Extra entries for model.json's userDefinedMetadata (a checkpoint's compile settings). */
  metadata?: Record<string, unknown>;
}

async function artifactsOf(model: tf.LayersModel, opts: SaveModelOptions): Promise<SplitArtifacts> {
  const frozen = opts.sharedFrozen ? frozenWeights(model) : new Set<tf.LayerVariable>();
  const own = model.weights.filter((w) => !frozen.has(w));
  const rest = model.weights.filter((w) => frozen.has(w));
  const { data, specs } = await tf.io.encodeWeights(
    own.map((w) => ({ name: w.originalName, tensor: w.read() })),
  );
  const artifacts: SplitArtifacts = {
    modelTopology: model.toJSON(null, false) as object,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    weightData: data,
    weightSpecs: specs,
  };
  if (rest.length) {
    const key = createHash('sha256')
      .update(rest.map((w) => `${w.originalName}:${valueHash(w.read())}`).join('\n'))
      .digest('hex')
      .slice(0, 16);
    const name = `${FROZEN_PREFIX}${key}.bin`;
    const file = path.join(path.resolve(opts.sharedFrozen!), name);
    const restSpecs = rest.map((w) => ({
      name: w.originalName,
      shape: w.shape as number[],
      dtype: w.dtype as 'float32',
    }));
    const bytes = restSpecs.reduce((s, w) => s + specBytes(w), 0);
    if (!fs.existsSync(file) || fs.statSync(file).size !== bytes) {
      const enc = await tf.io.encodeWeights(
        rest.map((w) => ({ name: w.originalName, tensor: w.read() })),
      );
      writeFileAtomic(file, new Uint8Array(tf.io.CompositeArrayBuffer.join(enc.data)));
    }
    artifacts.extraManifest = [{ paths: [`../${name}`], weights: restSpecs }]; // beside the checkpoint folder
  }
  if (opts.includeOptimizer && model.optimizer) {
    artifacts.trainingConfig = (
      model as unknown as { getTrainingConfig(): tf.io.TrainingConfig }
    ).getTrainingConfig();
    const opt = await tf.io.encodeWeights(await model.optimizer.getWeights(), 'optimizer');
    artifacts.weightSpecs = [...artifacts.weightSpecs!, ...opt.specs];
    artifacts.weightData = tf.io.concatenateArrayBuffers([
      artifacts.weightData as ArrayBuffer,
      opt.data as ArrayBuffer,
    ]);
  }
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const origins = weightsOrigins(model);
  // Keep "this base had random weights" across checkpoints (stored in model.json's metadata).
  if (meta || origins.length || opts.metadata)
    artifacts.userDefinedMetadata = {
      ...(meta ?? {}),
      ...(origins.length ? { [ORIGINS_KEY]: origins } : {}),
      ...(opts.metadata ?? {}),
    };
  return artifacts;
}

/** Saves topology + weights to `dir` (model.json, weights.bin), atomically. */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  opts: SaveModelOptions = {},
): Promise<tf.io.SaveResult> {
  if (opts.sharedFrozen && path.resolve(opts.sharedFrozen) !== path.dirname(path.resolve(dir))) {
    throw new Error(
      `saveModel: sharedFrozen must be the folder that holds ${dir} (got ${opts.sharedFrozen}).`,
    );
  }
  return folderIOHandler(dir).save!(await artifactsOf(model, opts));
}

/** Loads a model written by `saveModel` (custom layers of lib/models included). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const model = await tf.loadLayersModel(folderIOHandler(dir));
  const origins = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[
    ORIGINS_KEY
  ] as WeightsOrigin[] | undefined;
  for (const o of origins ?? []) tagWeightsOrigin(model, o);
  return model;
}

/** True when `dir` (or a save of it interrupted mid-swap) is a model folder. */
export function isModelFolder(dir: string): boolean {
  const d = loadable(dir, isComplete);
  return d !== null && fs.statSync(d).isDirectory();
}
