// Keras HDF5 weight files (`model.save_weights('x.h5')`, `model.save('x.h5')` and the
// keras.applications ImageNet files), read with h5wasm and loaded into tfjs models.
//
// Layout: root (or `model_weights/` in a full-model file) has attribute `layer_names`
// (split into `layer_names0`, `layer_names1`, … when large); each layer group has attribute
// `weight_names` (e.g. `block1_conv1/kernel:0`, trainable weights first) and the values at
// `group[weight_name]`.
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { replaceAtomically } from '../io/atomic';

// h5wasm's node build is ESM-only (its exports map has no `require` condition), and tslab
// compiles to CommonJS, so it is loaded through a real dynamic import.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const esmImport: (specifier: string) => Promise<unknown> = require('../esm.cjs');
type H5 = typeof import('h5wasm');
let h5Promise: Promise<H5> | null = null;

/** The h5wasm module (node build: reads and writes real paths), initialised once. */
export function h5wasm(): Promise<H5> {
  h5Promise ??= (async () => {
    const mod = (await esmImport('h5wasm/node')) as H5;
    await mod.ready;
    // HDF5 errors become exceptions (which we explain) instead of ~40 lines of HDF5-DIAG on stderr.
    (
      mod.Module as unknown as { activate_throwing_error_handler(): number }
    ).activate_throwing_error_handler();
    return mod;
  })();
  return h5Promise;
}

export interface H5Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}
export interface H5Layer {
  name: string;
  weights: H5Weight[];
}
export interface KerasWeightsFile {
  path: string;
  layers: H5Layer[];
}

/** Keras' `load_attributes_from_hdf5_group`: an attribute, or its chunks `name0`, `name1`, … */
function readStringsAttr(
  obj: { attrs: Record<string, { value: unknown }> },
  name: string,
): string[] {
  const attrs = obj.attrs;
  const asList = (v: unknown): string[] => {
    if (v == null) return [];
    if (typeof v === 'string') return [v];
    // h5wasm gives string[] for string arrays, and an empty typed array for Keras' empty lists.
    if (typeof v === 'object' && 'length' in (v as object))
      return Array.from(v as ArrayLike<unknown>, String);
    return [String(v)];
  };
  if (name in attrs) return asList(attrs[name].value);
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...asList(attrs[`${name}${i}`].value));
  return out;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files start with a signature at offset 0 (or 512, 1024, … after a user block). */
function hasHdf5Signature(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset <= 8192; offset = offset === 0 ? 512 : offset * 2) {
      if (fs.readSync(fd, buf, 0, 8, offset) === 8 && buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads every layer's weights from a Keras HDF5 file (in the file's layer order). */
export async function readKerasWeights(file: string): Promise<KerasWeightsFile> {
  if (!fs.existsSync(file)) {
    throw new Error(
      `Keras weights file not found: ${file}. Check the path (or pass weights: 'imagenet' to download Keras' own file).`,
    );
  }
  if (!hasHdf5Signature(file)) {
    throw new Error(
      `${file} is not an HDF5 file (no HDF5 signature). Is it a Keras .h5 weights file? ` +
        'An interrupted copy or an HTML error page is not: delete it and download it again.',
    );
  }
  const h5 = await h5wasm();
  let f: InstanceType<H5['File']>;
  try {
    f = new h5.File(file, 'r');
  } catch (e) {
    throw damaged(file, e);
  }
  try {
    let root: InstanceType<H5['Group']> = f;
    if (f.keys().includes('model_weights'))
      root = f.get('model_weights') as InstanceType<H5['Group']>;
    const layerNames = readStringsAttr(root, 'layer_names');
    if (layerNames.length === 0) {
      throw new Error(
        `${file} has no "layer_names" attribute: not a Keras HDF5 weights file ` +
          '(Keras 3 ".weights.h5" files use another layout; save with Keras 2 / tf.keras or as legacy .h5).',
      );
    }
    const layers: H5Layer[] = layerNames.map((name) => {
      const g = root.get(name) as InstanceType<H5['Group']> | null;
      if (!g)
        throw new Error(
          `${file}: layer group "${name}" listed in layer_names is missing (damaged file?).`,
        );
      const weights = readStringsAttr(g, 'weight_names').map((wn) => {
        const ds = g.get(wn) as InstanceType<H5['Dataset']> | null;
        if (!ds || !('shape' in ds))
          throw new Error(`${file}: weight "${name}/${wn}" is missing (damaged file?).`);
        const v = ds.value as ArrayLike<number>;
        const data = v instanceof Float32Array ? v : Float32Array.from(v);
        return { name: wn, shape: ds.shape ?? [], data };
      });
      return { name, weights };
    });
    return { path: file, layers };
  } catch (e) {
    throw (e as Error).message.startsWith(file) ? e : damaged(file, e);
  } finally {
    try {
      f.close();
    } catch {
      // A damaged file may fail to close too; the error above says what matters.
    }
  }
}

/** HDF5's error stack, shortened to its first line (e.g. "unable to open file"). */
function hdf5Reason(e: unknown): string {
  const text = (e as Error)?.message ?? String(e);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines.find((l) => /^#\d+:/.test(l));
  return first ? first.replace(/^#\d+:.*? in [\w]+\(\): /, '') : (lines[0] ?? 'unknown error');
}

/** The error for an HDF5 file that cannot be read: names the file and what to do. */
function damaged(file: string, e: unknown): Error {
  return new Error(
    `${file} is damaged or incomplete: HDF5 cannot read it (${hdf5Reason(e)}). ` +
      'An interrupted download or copy, or a save cut short, leaves such a file: delete it and download it again ' +
      '(or re-train / re-save the checkpoint).',
    { cause: e },
  );
}

export interface LoadKerasWeightsOptions {
  /** Match layers by name instead of by order of layers that have weights (Keras' default). */
  byName?: boolean;
  /** Skip layers whose weight count or shapes differ, with a warning, instead of throwing. */
  skipMismatch?: boolean;
}

export interface LoadKerasWeightsReport {
  file: string;
  /** Model layers that received weights. */
  loaded: string[];
  /** Layers skipped (skipMismatch) and why. */
  skipped: { layer: string; reason: string }[];
  /** Model layers with weights that the file does not have (byName only). */
  missing: string[];
}

const shapeStr = (s: readonly (number | null)[]) => `[${s.join(', ')}]`;

/** Checks one model layer against one file layer; returns the reason for a mismatch or null. */
function mismatch(layer: tf.layers.Layer, saved: H5Layer): string | null {
  const want = layer.weights;
  if (want.length !== saved.weights.length) {
    return (
      `model layer "${layer.name}" has ${want.length} weights (${want.map((w) => w.originalName).join(', ')}) ` +
      `but file layer "${saved.name}" has ${saved.weights.length} (${saved.weights.map((w) => w.name).join(', ')})`
    );
  }
  for (let i = 0; i < want.length; i++) {
    if (shapeStr(want[i].shape) !== shapeStr(saved.weights[i].shape)) {
      return (
        `model layer "${layer.name}" weight "${want[i].originalName}" expects shape ${shapeStr(want[i].shape)} ` +
        `but file layer "${saved.name}" weight "${saved.weights[i].name}" has shape ${shapeStr(saved.weights[i].shape)}`
      );
    }
  }
  return null;
}

/**
 * Loads a Keras HDF5 weights file into `model`: by order of layers that have weights (what
 * keras.applications and `model.load_weights(path)` do), or by layer name. Throws a message
 * naming the layer, the file and both shapes on any mismatch unless `skipMismatch`.
 */
export async function loadKerasWeights(
  model: tf.LayersModel,
  file: string,
  opts: LoadKerasWeightsOptions = {},
): Promise<LoadKerasWeightsReport> {
  const saved = await readKerasWeights(file);
  const report: LoadKerasWeightsReport = { file, loaded: [], skipped: [], missing: [] };
  const ours = model.layers.filter((l) => l.weights.length > 0);
  const pairs: [tf.layers.Layer, H5Layer][] = [];
  const hint =
    'Build the model with the architecture the file was saved from (includeTop, classes, inputShape channels), ' +
    'or load with { byName: true, skipMismatch: true } to take only what matches.';

  if (opts.byName) {
    const byName = new Map(saved.layers.map((l) => [l.name, l]));
    for (const layer of ours) {
      const s = byName.get(layer.name);
      if (s) pairs.push([layer, s]);
      else report.missing.push(layer.name);
    }
  } else {
    const theirs = saved.layers.filter((l) => l.weights.length > 0);
    if (theirs.length !== ours.length) {
      throw new Error(
        `Cannot load ${file} into model "${model.name}": the file has weights for ${theirs.length} layers, ` +
          `the model has ${ours.length} layers with weights (loading by order, as Keras does). ${hint}`,
      );
    }
    ours.forEach((l, i) => pairs.push([l, theirs[i]]));
  }

  // Check every layer before assigning any, so a mismatch never leaves the model half-loaded.
  const checked = pairs.map(([layer, s]) => ({ layer, s, why: mismatch(layer, s) }));
  const bad = checked.find((c) => c.why);
  if (bad && !opts.skipMismatch)
    throw new Error(`Cannot load ${file} into model "${model.name}": ${bad.why}. ${hint}`);
  for (const { layer, s, why } of checked) {
    if (why) {
      report.skipped.push({ layer: layer.name, reason: why });
      console.warn(`loadKerasWeights: skipping layer "${layer.name}": ${why} (file ${file}).`);
      continue;
    }
    const values = s.weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
    layer.setWeights(values);
    tf.dispose(values);
    report.loaded.push(layer.name);
  }
  return report;
}

export interface WriteKerasWeightsOptions {
  /** Split `layer_names` into `layer_names0..N` chunks of this many names (as Keras does past 64 KB). */
  chunkLayerNames?: number;
}

/**
 * Writes `model`'s weights in Keras' HDF5 layout (what `model.save_weights('x.h5')` writes),
 * so the files can go back to Keras and tests can produce Keras-layout files.
 */
export async function saveKerasWeights(
  model: tf.LayersModel,
  file: string,
  opts: WriteKerasWeightsOptions = {},
): Promise<void> {
  const h5 = await h5wasm();
  // Written to a temp file, reopened and checked, then renamed over `file`: a full disk or an HDF5
  // write error leaves the previous file as it was.
  await replaceAtomically(
    file,
    (tmp) => {
      const f = new h5.File(tmp, 'w');
      try {
        writeLayers(f, model, opts);
      } catch (e) {
        throw new Error(
          `HDF5 could not write the weights (${hdf5Reason(e)}): the disk is full, the file size limit ` +
            '(ulimit -f) is reached or the folder is not writable; free some space or save elsewhere',
          { cause: e },
        );
      } finally {
        try {
          f.close();
        } catch {
          // Closing flushes too, and fails the same way: the error above explains it.
        }
      }
    },
    { verify: (tmp) => verifyWritten(tmp, model) },
  );
}

function writeLayers(
  f: InstanceType<H5['File']>,
  model: tf.LayersModel,
  opts: WriteKerasWeightsOptions,
): void {
  const names = model.layers.map((l) => l.name);
  const chunk = opts.chunkLayerNames;
  if (chunk && chunk < names.length) {
    for (let i = 0; i * chunk < names.length; i++)
      f.create_attribute(`layer_names${i}`, names.slice(i * chunk, (i + 1) * chunk));
  } else {
    f.create_attribute('layer_names', names);
  }
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('keras_version', '2.13.1');
  for (const layer of model.layers) {
    const g = f.create_group(layer.name);
    const ws = layer.weights;
    // Keras names: "<layer>/<weight>:0"; a group per path component.
    const weightNames = ws.map((w) => `${w.originalName}:0`);
    g.create_attribute(
      'weight_names',
      weightNames.length ? weightNames : [],
      weightNames.length ? null : [0],
    );
    ws.forEach((w, i) => {
      const parts = weightNames[i].split('/');
      let parent = g;
      for (const p of parts.slice(0, -1)) {
        parent = (parent.keys().includes(p) ? parent.get(p) : parent.create_group(p)) as typeof g;
      }
      const data = w.read().dataSync() as Float32Array;
      parent.create_dataset({
        name: parts[parts.length - 1],
        data,
        shape: w.shape as number[],
        dtype: '<f4',
      });
    });
  }
}

/** Reopen a written file: every layer and weight shape must be there, and the size must hold all values. */
async function verifyWritten(tmp: string, model: tf.LayersModel): Promise<void> {
  const values = model.weights.reduce(
    (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1) * 4,
    0,
  );
  const size = fs.statSync(tmp).size;
  if (size < values)
    throw Object.assign(
      new Error(`only ${size} bytes reached the disk, the weights alone take ${values}`),
      { code: 'ENOSPC' },
    );
  const back = await readKerasWeights(tmp);
  const want = model.layers
    .map((l) => `${l.name}:${l.weights.map((w) => shapeStr(w.shape)).join()}`)
    .join('|');
  const got = back.layers
    .map((l) => `${l.name}:${l.weights.map((w) => shapeStr(w.shape)).join()}`)
    .join('|');
  if (want !== got)
    throw new Error('the file read back does not list the layers and shapes that were written');
}
