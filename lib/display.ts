// Rich output from any cell. In a tslab kernel, values go to Jupyter as display_data messages
// (one message may carry several mime types, so JupyterLab can render vega-lite while the classic
// Notebook and HTML exports show the SVG). Outside a kernel (plain node, tests, scripts) nothing
// throws: text/plain goes to stdout and, when NB_ARTIFACTS_DIR is set, each artifact is written
// to a file there.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { randomSeed } from './seed';
import { escapeControls } from './io/controls';

/** A display bundle: mime type -> data. Binary data (PNG, JPEG) is a Buffer/Uint8Array. */
export type MimeBundle = {
  'text/plain'?: string;
  'text/html'?: string;
  'text/markdown'?: string;
  'image/svg+xml'?: string;
  'image/png'?: Uint8Array;
  'image/jpeg'?: Uint8Array;
  'application/vnd.vegalite.v5+json'?: object;
  [mime: string]: string | Uint8Array | object | undefined;
};

type WriteDisplayData = (
  msg: {
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
    transient: { display_id?: string };
  },
  update: boolean,
) => void;

/**
 * tslab keeps the writer of the running cell in its (already loaded) `dist/jupyter` module.
 * We look it up in the module cache instead of requiring tslab, so that plain node never loads
 * the TypeScript compiler just to find out it is not in a kernel.
 */
function kernelWriter(): WriteDisplayData | null {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (mod && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) {
      const w = (mod.exports as { lastWriteDisplayData?: WriteDisplayData | null })
        .lastWriteDisplayData;
      if (typeof w === 'function') return w;
    }
  }
  return null;
}

/** True when running inside a tslab Jupyter kernel (a cell is executing). */
export function isKernel(): boolean {
  return kernelWriter() !== null;
}

const EXTENSIONS: Record<string, string> = {
  'text/html': 'html',
  'text/markdown': 'md',
  'image/svg+xml': 'svg',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'application/vnd.vegalite.v5+json': 'vl.json',
};
let artifactCounter = 0;

/** Outside a kernel: write every rich part of a bundle to NB_ARTIFACTS_DIR (if set); returns the files. */
function writeArtifacts(bundle: MimeBundle): string[] {
  const dir = process.env.NB_ARTIFACTS_DIR;
  if (!dir) return [];
  fs.mkdirSync(dir, { recursive: true });
  const stem = `${process.pid}-${String(++artifactCounter).padStart(4, '0')}`;
  const written: string[] = [];
  for (const [mime, data] of Object.entries(bundle)) {
    const ext = EXTENSIONS[mime];
    if (!ext || data === undefined) continue;
    const file = path.join(dir, `${stem}.${ext}`);
    const body =
      data instanceof Uint8Array
        ? data
        : typeof data === 'string'
          ? data
          : JSON.stringify(data, null, 2);
    fs.writeFileSync(file, body);
    written.push(file);
  }
  return written;
}

function encode(bundle: MimeBundle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    if (value === undefined) continue;
    data[mime] = value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
  }
  return data;
}

function send(bundle: MimeBundle, displayId: string | undefined, update: boolean): void {
  // A class or file name in a text output must not be able to recolour or rewrite the terminal.
  const plain = bundle['text/plain'];
  if (typeof plain === 'string') bundle = { ...bundle, 'text/plain': escapeControls(plain) };
  const write = kernelWriter();
  if (write) {
    write(
      { data: encode(bundle), metadata: {}, transient: displayId ? { display_id: displayId } : {} },
      update,
    );
    return;
  }
  writeArtifacts(bundle);
  const text = bundle['text/plain'];
  if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Show a multi-mime bundle (e.g. vega-lite JSON + SVG + text/plain) as one output. */
export function showBundle(bundle: MimeBundle): void {
  send(bundle, undefined, false);
}

export function showHtml(html: string, text?: string): void {
  showBundle({ 'text/html': html, ...(text ? { 'text/plain': text } : {}) });
}
export function showMarkdown(md: string): void {
  showBundle({ 'text/markdown': md, 'text/plain': md });
}
export function showSvg(svg: string, text?: string): void {
  showBundle({ 'image/svg+xml': svg, ...(text ? { 'text/plain': text } : {}) });
}
export function showPng(png: Uint8Array, text?: string): void {
  showBundle({ 'image/png': png, ...(text ? { 'text/plain': text } : {}) });
}
export function showText(text: string): void {
  showBundle({ 'text/plain': text });
}

/** An output that is replaced in place on every update (progress lines, live charts). */
export interface LiveDisplay {
  update(bundle: MimeBundle): void;
  /** Convenience for a single text line. */
  text(line: string): void;
}

/**
 * In a kernel: the first update creates the output, later ones replace it (update_display_data).
 * In a terminal: text/plain is rewritten on one line when stdout is a TTY, else printed as lines
 * (so a CI log still shows progress), and rich parts go to NB_ARTIFACTS_DIR only on the last update
 * written by the caller through showBundle.
 */
export function newDisplay(): LiveDisplay {
  const id = randomBytes(8).toString('hex');
  let shown = false;
  const live: LiveDisplay = {
    update(bundle) {
      if (kernelWriter()) {
        send(bundle, id, shown);
        shown = true;
        return;
      }
      const text = bundle['text/plain'];
      if (!text) return;
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${text.split('\n')[0]}`);
      else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
      shown = true;
    },
    text(line) {
      live.update({ 'text/plain': line });
    },
  };
  return live;
}

/** Mime type the notebook runner collects to print a notebook's headline numbers. */
export const METRICS_MIME = 'application/vnd.nb.metrics+json';

/**
 * Show a notebook's headline numbers (e.g. validation accuracy) as a small table and tag them so
 * `npm start` can print them per notebook. Later calls add to / overwrite earlier keys.
 */
export function headlineMetrics(metrics: Record<string, number | string>): void {
  // The backend travels with the numbers: `npm start` prints it in each notebook's summary line.
  // Before any tensor exists no backend is chosen yet: then there is no backend to report.
  const backend = tf.getBackend();
  const values: Record<string, number | string> = backend
    ? { ...metrics, backend }
    : { ...metrics };
  // The seed too: the report's provenance line names it.
  const seed = randomSeed();
  if (seed !== null) values.seed = seed;
  const fmt = (v: number | string) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
  const rows = Object.entries(values);
  showBundle({
    [METRICS_MIME]: values,
    'text/markdown': [
      '| metric | value |',
      '|---|---|',
      ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    ].join('\n'),
    'text/plain': rows.map(([k, v]) => `${k}: ${fmt(v)}`).join('\n'),
  });
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * tslab console.logs a cell's last value (util.inspect, then a newline on stdout). After a console.log
 * whose value described itself as '' in a kernel, swallow that lone newline, so a cell ending in
 * `nb.plotHistory(h)` shows its chart and nothing under it. One-shot: any other write passes.
 */
function swallowNextNewline(): void {
  const stdout = process.stdout;
  const write = stdout.write;
  stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    stdout.write = write;
    if (chunk === '\n') return true;
    return (write as (...a: unknown[]) => boolean).call(stdout, chunk, ...rest);
  } as typeof stdout.write;
}

export interface DescribeOptions {
  /**
   * The value's rich output was already displayed: as a cell's last value it prints nothing in a
   * kernel (the description would only repeat it). Outside a kernel it still prints its description.
   */
  shown?: boolean;
}

/**
 * tslab prints a cell's last value with util.inspect; a returned result object would dump its whole
 * content (SVG, pixel arrays) under the rich output. This attaches a one-line description instead
 * (non-enumerable: JSON and spreads ignore it), or nothing at all for a value already shown.
 */
export function describeAs<T extends object>(
  value: T,
  describe: (v: T) => string,
  opts: DescribeOptions = {},
): T {
  const inspect = () => {
    if (opts.shown && isKernel()) {
      swallowNextNewline();
      return '';
    }
    return describe(value);
  };
  Object.defineProperty(value, INSPECT, { value: inspect, enumerable: false, configurable: true });
  return value;
}

/** A size for such descriptions: "12.3 kB". */
export function kb(s: string | Uint8Array): string {
  const bytes = typeof s === 'string' ? Buffer.byteLength(s) : s.length;
  return `${(bytes / 1024).toFixed(1)} kB`;
}
