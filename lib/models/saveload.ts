// Save / load a tfjs LayersModel (topology + weights, custom layers included) to a folder,
// without tfjs-node. Layout is tfjs' own: model.json + weights.bin (loadable by tf.loadLayersModel
// over HTTP too). Writing is atomic: everything goes to a temporary sibling folder, which replaces
// the old checkpoint only once complete, so a killed process never leaves a half-written one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
// Register the custom layers a saved model may contain before any load.
import './batchnorm';
import '../data/preprocess';
import { tagWeightsOrigin, weightsOrigins, type WeightsOrigin } from './origin';

const ORIGINS_KEY = 'kerasApplicationWeights';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

function writeSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Old checkpoint moved aside during the swap; used if a crash happened between the two renames. */
function leftoverOld(dir: string): string | null {
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) return null;
  const prefix = `.${path.basename(dir)}.old-`;
  const olds = fs.readdirSync(parent).filter((n) => n.startsWith(prefix)).map((n) => path.join(parent, n));
  olds.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return olds.find((d) => fs.existsSync(path.join(d, MODEL_JSON))) ?? null;
}

/** A tf.io handler that saves to / loads from a folder on disk. */
export function folderIOHandler(dirIn: string): tf.io.IOHandler {
  const dir = path.resolve(dirIn);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error(`saveModel(${dir}): binary model topologies are not supported; save a LayersModel.`);
      }
      const parent = path.dirname(dir);
      fs.mkdirSync(parent, { recursive: true });
      const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.tmp-`));
      try {
        const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array(0);
        writeSynced(path.join(tmp, WEIGHTS_BIN), weights);
        const modelJson: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology as object,
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
          ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
          ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        };
        writeSynced(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson));
        // Swap: old checkpoint aside, new one in place, then delete the old one.
        let old: string | null = null;
        if (fs.existsSync(dir)) {
          old = path.join(parent, `.${path.basename(dir)}.old-${process.pid}-${Date.now()}`);
          fs.renameSync(dir, old);
        }
        fs.renameSync(tmp, dir);
        if (old) fs.rmSync(old, { recursive: true, force: true });
      } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw new Error(`saveModel: could not write ${dir} (${(e as Error).message}). Is the folder writable?`);
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      let from = dir;
      if (!fs.existsSync(path.join(dir, MODEL_JSON))) {
        const old = leftoverOld(dir);
        if (!old) {
          throw new Error(`loadModel: no ${MODEL_JSON} in ${dir}. Pass the folder written by saveModel(model, dir).`);
        }
        from = old; // a save was interrupted between its two renames: the previous checkpoint is complete
      }
      const json = JSON.parse(fs.readFileSync(path.join(from, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) => g.paths.map((p) => {
          const file = path.join(from, p);
          if (!fs.existsSync(file)) throw new Error(`loadModel: ${file} (listed in ${path.join(from, MODEL_JSON)}) is missing.`);
          const b = fs.readFileSync(file);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }));
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Saves topology + weights to `dir` (model.json, weights.bin), atomically. */
export async function saveModel(model: tf.LayersModel, dir: string, opts: { includeOptimizer?: boolean } = {}): Promise<tf.io.SaveResult> {
  const handler = folderIOHandler(dir);
  const origins = weightsOrigins(model);
  // Keep "this base had random weights" across checkpoints (stored in model.json's metadata).
  const save = handler.save!.bind(handler);
  handler.save = (artifacts) => save(origins.length
    ? { ...artifacts, userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), [ORIGINS_KEY]: origins } }
    : artifacts);
  return model.save(handler, { includeOptimizer: opts.includeOptimizer ?? false });
}

/** Loads a model written by `saveModel` (custom layers of lib/models included). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const model = await tf.loadLayersModel(folderIOHandler(dir));
  const origins = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[ORIGINS_KEY] as WeightsOrigin[] | undefined;
  for (const o of origins ?? []) tagWeightsOrigin(model, o);
  return model;
}
