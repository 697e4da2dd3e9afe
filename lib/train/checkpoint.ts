// Checkpoints, written atomically so a run that is interrupted — a kernel restart, an exception in
// a callback — always leaves the previous complete checkpoint.
//
// A whole model is a folder (lib/models' saveModel: model.json + weights.bin, swapped in by rename).
// Weights only (saveWeightsOnly) are one file: a header line, the JSON weight specs, the raw bytes;
// one file means one rename, which is atomic on every local file system.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { loadModel, saveModel } from '../models/saveload';
import { loadKerasWeights, saveKerasWeights } from '../models/h5';

/** Keras' weights files: `*.h5` / `*.weights.h5` are written and read in Keras' HDF5 layout. */
const isKerasH5 = (file: string) => /\.h5$/i.test(file);

const MAGIC = 'TFJS-NB-CHECKPOINT 1\n';

/** Write `data` to `file` atomically: write a temp file beside it, flush it, rename it over. */
export function atomicWriteFile(file: string, data: string | Uint8Array | Uint8Array[], opts: { fsync?: boolean } = {}): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const part of Array.isArray(data) ? data : [data]) {
      if (typeof part === "string") fs.writeSync(fd, part);
      else fs.writeSync(fd, part);
    }
    if (opts.fsync !== false) fs.fsyncSync(fd); // caches skip it: a lost file is recomputed
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function encode(header: object, weights: Uint8Array): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return [Buffer.from(MAGIC, 'utf8'), len, json, weights];
}

function isModelFolder(file: string): boolean {
  return fs.existsSync(file) ? fs.statSync(file).isDirectory() : fs.existsSync(path.dirname(path.resolve(file))) &&
    fs.readdirSync(path.dirname(path.resolve(file))).some((n) => n.startsWith(`.${path.basename(file)}.old-`));
}

function decode(file: string): { header: { kind: 'weights'; weightSpecs: tf.io.WeightsManifestEntry[] }; weights: ArrayBuffer } {
  if (!fs.existsSync(file)) throw new Error(`Checkpoint ${file} does not exist. Train with a ModelCheckpoint('${file}') callback first, or check the path.`);
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) {
    throw new Error(`${file} is not a checkpoint written by ModelCheckpoint/saveCheckpoint (wrong header). Delete it or point to the right file.`);
  }
  const len = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(buf.subarray(start, start + len).toString('utf8'));
  const w = buf.subarray(start + len);
  return { header, weights: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer };
}

/**
 * Save a model (topology + weights + trainable flags; a folder) or only its weights (one file; Keras'
 * HDF5 layout when the name ends in .h5), atomically. Weights-only files are matched by position and shape on load (tfjs weight names
 * differ per process).
 */
export async function saveCheckpoint(model: tf.LayersModel, file: string, opts: { weightsOnly?: boolean } = {}): Promise<void> {
  if (opts.weightsOnly && isKerasH5(file)) {
    await saveKerasWeights(model, file); // temp file + rename, loadable by Keras' model.load_weights
    return;
  }
  if (opts.weightsOnly) {
    const named = model.weights.map((w, i) => ({ name: `w${i}`, tensor: w.read() }));
    const { data, specs } = await tf.io.encodeWeights(named);
    atomicWriteFile(file, encode({ kind: 'weights', weightSpecs: specs }, new Uint8Array(data)));
    return;
  }
  await saveModel(model, file);
}

/** Load a model saved by saveCheckpoint / ModelCheckpoint (Keras load_model). Recompile it before training. */
export async function loadCheckpoint(file: string): Promise<tf.LayersModel> {
  if (isModelFolder(file)) return loadModel(file);
  decode(file); // throws the right message for a missing or foreign file
  throw new Error(`${file} holds weights only (saveWeightsOnly). Build the model, then call loadCheckpointWeights(model, '${file}').`);
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
      throw new Error(`${file} has ${values.length} weight tensors but model "${model.name}" has ${targets.length}; it was saved from a different architecture.`);
    }
    values.forEach((v, i) => {
      if (v.shape.join() !== targets[i].shape.join()) {
        throw new Error(`${file}: weight ${i} has shape [${v.shape}] but "${targets[i].name}" in model "${model.name}" has [${targets[i].shape}]; different architecture.`);
      }
    });
    model.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}
