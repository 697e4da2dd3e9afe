// Checkpoints, written atomically so a run that is interrupted — a kernel restart, an exception in
// a callback — always leaves the previous complete checkpoint.
//
// A whole model is a folder (lib/models' saveModel: model.json + weights.bin, swapped in by rename).
// Weights only (saveWeightsOnly) are one file: a header line, the JSON weight specs, the raw bytes;
// one file means one rename, which is atomic on every local file system.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isModelFolder, loadModel, saveModel, frozenWeights } from '../models/saveload';
import { loadKerasWeights, saveKerasWeights } from '../models/h5';
import { removeLeftovers, writeFileAtomic } from '../io/atomic';
import { compileFromSettings, compileSettings, type CompileSettings } from './compile';

/** Keras' weights files: `*.h5` / `*.weights.h5` are written and read in Keras' HDF5 layout. */
const isKerasH5 = (file: string) => /\.h5$/i.test(file);

const MAGIC = 'TFJS-NB-CHECKPOINT 1\n';

function encode(header: object, weights: Uint8Array): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return [Buffer.from(MAGIC, 'utf8'), len, json, weights];
}

const REDO = 'Train again to write a new one, or delete it and use an earlier checkpoint.';

function decode(file: string): {
  header: { kind: 'weights'; weightSpecs: tf.io.WeightsManifestEntry[] };
  weights: ArrayBuffer;
} {
  if (!fs.existsSync(file))
    throw new Error(
      `Checkpoint ${file} does not exist. Train with a ModelCheckpoint('${file}') callback first, or check the path.`,
    );
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) {
    throw new Error(
      `${file} is not a checkpoint written by ModelCheckpoint/saveCheckpoint (wrong header). Delete it or point to the right file.`,
    );
  }
  const start = MAGIC.length + 4;
  const len = buf.byteLength >= start ? buf.readUInt32LE(MAGIC.length) : Infinity;
  let header: { kind: 'weights'; weightSpecs: tf.io.WeightsManifestEntry[] };
  try {
    if (start + len > buf.byteLength)
      throw new Error(`the header is cut off after ${buf.byteLength} bytes`);
    header = JSON.parse(buf.subarray(start, start + len).toString('utf8'));
    if (!Array.isArray(header?.weightSpecs)) throw new Error('no weight list in the header');
  } catch (e) {
    throw new Error(
      `Checkpoint ${file} is damaged or incomplete (${(e as Error).message}). ${REDO}`,
    );
  }
  const w = buf.subarray(start + len);
  const want = header.weightSpecs.reduce(
    (s, spec) => s + spec.shape.reduce((a, b) => a * b, 1) * 4,
    0,
  );
  if (w.byteLength !== want) {
    throw new Error(
      `Checkpoint ${file} is ${w.byteLength < want ? 'incomplete' : 'damaged (longer than its header says)'}: ` +
        `${w.byteLength} bytes of weights, its header lists ${want}. ${REDO}`,
    );
  }
  return {
    header,
    weights: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
  };
}

/**
 * Save a model (topology + weights + trainable flags; a folder) or only its weights (one file; Keras'
 * HDF5 layout when the name ends in .h5), atomically. Weights-only files are matched by position and shape on load (tfjs weight names
 * differ per process).
 */
export async function saveCheckpoint(
  model: tf.LayersModel,
  file: string,
  opts: { weightsOnly?: boolean } = {},
): Promise<void> {
  removeLeftovers(file); // temp files of a save that was killed
  if (opts.weightsOnly && isKerasH5(file)) {
    await saveKerasWeights(model, file); // temp file + rename, loadable by Keras' model.load_weights
    return;
  }
  if (opts.weightsOnly) {
    const named = model.weights.map((w, i) => ({ name: `w${i}`, tensor: w.read() }));
    const { data, specs } = await tf.io.encodeWeights(named);
    writeFileAtomic(file, encode({ kind: 'weights', weightSpecs: specs }, new Uint8Array(data)));
    return;
  }
  // A frozen base cannot change while the head trains: its weights go once into a file beside the
  // checkpoint (named by their fingerprint), so each save writes only the layers that train.
  const compiled = compileSettings(model);
  await saveModel(model, file, {
    ...(frozenWeights(model).size ? { sharedFrozen: path.dirname(path.resolve(file)) } : {}),
    ...(compiled ? { metadata: { [COMPILE_KEY]: compiled } } : {}),
  });
}

/** Where a checkpoint keeps its compile settings in model.json's userDefinedMetadata. */
const COMPILE_KEY = 'nb_compile';

/**
 * Keras' load_model for a checkpoint written by ModelCheckpoint / saveCheckpoint: the model, with its
 * weights, compiled as it was when saved (optimizer at its rate then, loss, label smoothing,
 * from_logits, metrics), so evaluating it gives the numbers the training log showed. Compile it
 * again to train with other settings (a fresh optimizer, as in Keras).
 */
export async function loadCheckpoint(file: string): Promise<tf.LayersModel> {
  if (isModelFolder(file)) {
    const model = await loadModel(file);
    const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
    const settings = meta?.[COMPILE_KEY] as CompileSettings | undefined;
    if (settings) {
      compileFromSettings(model, settings, `loadCheckpoint(${file})`);
      // Only what the checkpoint said: a later save of this model writes its own compile settings.
      const { [COMPILE_KEY]: _, ...rest } = meta!;
      model.setUserDefinedMetadata(rest);
    }
    return model;
  }
  decode(file); // throws the right message for a missing or foreign file
  throw new Error(
    `${file} holds weights only (saveWeightsOnly). Build the model, then call loadCheckpointWeights(model, '${file}').`,
  );
}

/** Load weights (from either kind of checkpoint) into a model with the same architecture. */
export async function loadCheckpointWeights(model: tf.LayersModel, file: string): Promise<void> {
  if (isKerasH5(file) && fs.existsSync(file)) {
    await loadKerasWeights(model, file);
    return;
  }
  let values: tf.Tensor[];
  if (isModelFolder(file)) {
    const saved = await loadModel(file);
    values = saved.getWeights().map((w) => w.clone());
    saved.dispose();
  } else {
    const { header, weights } = decode(file);
    const decoded = tf.io.decodeWeights(weights, header.weightSpecs);
    values = header.weightSpecs.map((s) => decoded[s.name]);
  }
  const targets = model.weights;
  try {
    if (values.length !== targets.length) {
      throw new Error(
        `${file} has ${values.length} weight tensors but model "${model.name}" has ${targets.length}; it was saved from a different architecture.`,
      );
    }
    values.forEach((v, i) => {
      if (v.shape.join() !== targets[i].shape.join()) {
        throw new Error(
          `${file}: weight ${i} has shape [${v.shape}] but "${targets[i].name}" in model "${model.name}" has [${targets[i].shape}]; different architecture.`,
        );
      }
    });
    model.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}
