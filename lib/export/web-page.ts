// The index.html that exportForWeb writes: one self-contained page (inline CSS and script) that
// loads tf.min.js, model.json and weights.bin from its own folder, nothing from the network.
//
// Query parameters, for links and for tests: ?image=URL classifies that image on load,
// &backend=cpu|webgl|wasm picks the tfjs backend, &report=URL POSTs the result there as JSON.
import { CAFFE_MEAN_BGR, TORCH_MEAN, TORCH_STD } from '../data/preprocess';
import type { ImageSize } from '../data/types';
import { escapeHtml } from '../io/html';

export interface WebPageConfig {
  title: string;
  classNames: string[];
  mode: string; // 'caffe' | 'tf' | 'torch' | 'none'
  imageSize: ImageSize;
  interpolation: 'bilinear' | 'nearest';
  topK: number;
  /** Apply photos' EXIF orientation (as the training data did) or use pixels as stored (Keras). */
  exifTranspose: boolean;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// The page's script (plain browser JavaScript). CONFIG is defined just before it.
const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let model = null;

function setStatus(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

// Exactly the notebook's steps: RGB 0..255, tf.image.resize (half-pixel centres), preprocess_input.
function preprocess(imageData) {
  return tf.tidy(() => {
    let x = tf.browser.fromPixels(imageData).toFloat();
    const size = CONFIG.imageSize;
    x = CONFIG.interpolation === 'nearest'
      ? tf.image.resizeNearestNeighbor(x, size, false, true)
      : tf.image.resizeBilinear(x, size, false, true);
    if (CONFIG.mode === 'caffe') x = tf.sub(tf.reverse(x, -1), CONFIG.caffeMeanBgr);
    else if (CONFIG.mode === 'tf') x = tf.sub(tf.div(x, 127.5), 1);
    else if (CONFIG.mode === 'torch') x = tf.div(tf.sub(tf.div(x, 255), CONFIG.torchMean), CONFIG.torchStd);
    return x.expandDims(0);
  });
}

// Decode at the image's own size (not the size it is displayed at).
function pixelsOf(img) {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

// The EXIF orientation (tag 0x0112) of a JPEG's bytes, 1 when it has none.
function exifOrientation(bytes) {
  const v = new DataView(bytes);
  if (v.byteLength < 4 || v.getUint16(0) !== 0xffd8) return 1;
  for (let p = 2; p + 4 <= v.byteLength; ) {
    const marker = v.getUint16(p), len = v.getUint16(p + 2);
    if (marker === 0xffe1 && v.getUint32(p + 4) === 0x45786966) {
      const t = p + 10, le = v.getUint16(t) === 0x4949;
      const ifd = t + v.getUint32(t + 4, le);
      for (let k = 0; k < v.getUint16(ifd, le); k++)
        if (v.getUint16(ifd + 2 + 12 * k, le) === 0x0112) return v.getUint16(ifd + 10 + 12 * k, le);
      return 1;
    }
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return 1;
    p += 2 + len;
  }
  return 1;
}

// Browsers draw a photo turned by its EXIF tag (createImageBitmap's imageOrientation 'none' and CSS
// image-orientation: none no longer stop that). Keras, and the notebook by default, give the model
// the pixels as stored, so turn them back: stored pixel (xs, ys) is displayed pixel (xd, yd).
function storedPixels(shown, o) {
  if (!(o >= 2 && o <= 8)) return shown;
  const sw = o >= 5 ? shown.height : shown.width, sh = o >= 5 ? shown.width : shown.height;
  const out = new ImageData(sw, sh);
  for (let ys = 0; ys < sh; ys++) for (let xs = 0; xs < sw; xs++) {
    const [xd, yd] = [null, [sw - 1 - xs, ys], [sw - 1 - xs, sh - 1 - ys], [xs, sh - 1 - ys],
      [ys, xs], [sh - 1 - ys, xs], [sh - 1 - ys, sw - 1 - xs], [ys, sw - 1 - xs]][o - 1];
    const s = (yd * shown.width + xd) * 4, d = (ys * sw + xs) * 4;
    for (let c = 0; c < 4; c++) out.data[d + c] = shown.data[s + c];
  }
  return out;
}

async function loadImage(url) {
  const response = await fetch(url).catch(() => null);
  if (!response || !response.ok) throw new Error('cannot load image ' + url);
  const bytes = await response.arrayBuffer();
  const src = URL.createObjectURL(new Blob([bytes]));
  const img = await new Promise((resolve, reject) => {
    const im = new Image();
    im.onload = () => resolve(im);
    im.onerror = () => reject(new Error('cannot decode image ' + url));
    im.src = src;
  });
  img.orientation = exifOrientation(bytes);
  return img;
}

async function classify(img) {
  const shown = pixelsOf(img);
  const pixels = CONFIG.exifTranspose ? shown : storedPixels(shown, img.orientation);
  // The preview shows the pixels the model is given, not the photo as the browser turns it.
  const canvas = document.createElement('canvas');
  canvas.width = pixels.width;
  canvas.height = pixels.height;
  canvas.getContext('2d').putImageData(pixels, 0, 0);
  $('preview').src = canvas.toDataURL();
  $('preview').hidden = false;
  const x = preprocess(pixels);
  const y = model.predict(x);
  const probabilities = Array.from(await y.data());
  tf.dispose([x, y]);
  const top = probabilities
    .map((p, i) => ({ classIndex: i, className: CONFIG.classNames[i], probability: p }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, CONFIG.topK);
  const rows = $('top').querySelector('tbody');
  rows.textContent = '';
  top.forEach((t, i) => {
    const tr = document.createElement('tr');
    const cells = [String(i + 1), t.className, (100 * t.probability).toFixed(2) + '%'];
    cells.forEach((c) => { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); });
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = Math.max(1, Math.round(200 * t.probability)) + 'px';
    const td = document.createElement('td');
    td.appendChild(bar);
    tr.appendChild(td);
    rows.appendChild(tr);
  });
  $('top').hidden = false;
  setStatus('Top ' + top.length + ' of ' + CONFIG.classNames.length + ' classes (backend: ' + tf.getBackend() + ')');
  $('result').textContent = JSON.stringify({ top });
  return { top, probabilities, backend: tf.getBackend() };
}

async function classifyUrl(url) {
  try {
    return await classify(await loadImage(url));
  } catch (e) {
    setStatus(e.message, true);
    return { error: e.message };
  }
}

function classifyFile(file) {
  if (!model) return setStatus('The model is not loaded yet.', true);
  if (!file || !file.type.startsWith('image/')) return setStatus('Not an image: ' + (file ? file.name : 'nothing chosen'), true);
  classifyUrl(URL.createObjectURL(file));
}

async function useModel(loaded) {
  model = loaded;
  const shape = model.inputs[0].shape;
  setStatus('Model loaded (' + shape.slice(1).join('×') + ' input, ' + CONFIG.classNames.length + ' classes). Drop an image or choose one.');
  $('files').hidden = true;
}

async function start() {
  try {
    if (params.get('backend')) await tf.setBackend(params.get('backend'));
    await tf.ready();
    await useModel(await tf.loadLayersModel('model.json'));
  } catch (e) {
    setStatus(location.protocol === 'file:'
      ? 'Opened from disk, the browser does not let this page read model.json. Choose model.json and weights.bin below, or serve this folder (python3 -m http.server) and open it from there.'
      : 'Cannot load model.json: ' + e.message, true);
    $('files').hidden = false;
    return;
  }
  if (params.get('image')) {
    const result = await classifyUrl(params.get('image'));
    if (params.get('report')) await fetch(params.get('report'), { method: 'POST', body: JSON.stringify(result) });
  }
}

$('drop').addEventListener('dragover', (e) => { e.preventDefault(); $('drop').classList.add('over'); });
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (e) => {
  e.preventDefault();
  $('drop').classList.remove('over');
  classifyFile(e.dataTransfer.files[0]);
});
$('chooser').addEventListener('change', (e) => classifyFile(e.target.files[0]));
$('modelFiles').addEventListener('change', async (e) => {
  const files = Array.from(e.target.files).sort((a, b) => (a.name.endsWith('.json') ? -1 : b.name.endsWith('.json') ? 1 : 0));
  try {
    await useModel(await tf.loadLayersModel(tf.io.browserFiles(files)));
  } catch (err) {
    setStatus('Cannot load the chosen files: ' + err.message + ' (choose model.json and weights.bin together).', true);
  }
});
start();
`;

/** The page, with the classes and preprocessing settings baked in. */
export function webPage(c: WebPageConfig): string {
  const config = {
    ...c,
    caffeMeanBgr: [...CAFFE_MEAN_BGR],
    torchMean: [...TORCH_MEAN],
    torchStd: [...TORCH_STD],
  };
  const title = escapeHtml(c.title);
  const pre =
    c.mode === 'none'
      ? 'no preprocess_input (the model has its own)'
      : `preprocess_input '${escapeHtml(c.mode)}'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 760px; color: #222; padding: 0 1em; }
  #drop { border: 2px dashed #999; border-radius: 8px; padding: 2em; text-align: center; background: #fafafa; }
  #drop.over { border-color: #1f77b4; background: #eef5fb; }
  #status { margin: 1em 0; }
  #status.error { color: #d32f2f; }
  .result { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }
  #preview { max-width: 256px; max-height: 256px; border: 1px solid #ddd; }
  table { border-collapse: collapse; }
  td, th { padding: 3px 8px; text-align: left; }
  td:nth-child(3) { text-align: right; }
  .bar { background: #1f77b4; height: 10px; }
  footer { margin-top: 2em; color: #777; font-size: 0.85em; }
  #result { display: none; }
</style>
<script src="tf.min.js"></script>
</head>
<body>
<h1>${title}</h1>
<div id="drop">Drop an image here, or <input type="file" id="chooser" accept="image/*"></div>
<p id="status">Loading the model…</p>
<div id="files" hidden>Model files: <input type="file" id="modelFiles" accept=".json,.bin" multiple></div>
<div class="result">
  <img id="preview" alt="the image classified" hidden>
  <table id="top" hidden><thead><tr><th>#</th><th>class</th><th>probability</th><th></th></tr></thead><tbody></tbody></table>
</div>
<pre id="result"></pre>
<footer>Runs in your browser with TensorFlow.js (tf.min.js beside this page); images never leave this computer.
Input ${c.imageSize[0]}×${c.imageSize[1]}, ${c.interpolation} resize, ${pre}; ${c.classNames.length} classes;
${c.exifTranspose ? 'photos turned upright by their EXIF orientation, as in training' : 'photos read as stored, their EXIF orientation ignored, as Keras and the training data did'}.</footer>
<script>
const CONFIG = ${scriptJson(config)};
${SCRIPT}
</script>
</body>
</html>
`;
}
