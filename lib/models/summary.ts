// Keras' `model.summary()` table (Keras 2.x layout): Layer (type), Output Shape, Param #, and
// Connected to for non-sequential models; Total / Trainable / Non-trainable params as Keras
// counts them. Text for terminals, HTML for notebooks.
import * as tf from '@tensorflow/tfjs';
import { describeAs, showBundle } from '../display';
import { escapeHtml as esc } from '../io/html';
import { randomWeightsNotice } from './origin';

type Layer = tf.layers.Layer;
interface TfNode {
  inboundLayers: Layer[];
  nodeIndices: number[];
  tensorIndices: number[];
}

/** Keras' class names for our Keras-semantics layers. */
const DISPLAY_CLASS: Record<string, string> = { KerasBatchNormalization: 'BatchNormalization' };
const className = (l: Layer) => DISPLAY_CLASS[l.getClassName()] ?? l.getClassName();

const pyShape = (s: (number | null)[]) =>
  `(${s.map((d) => (d == null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
function outputShape(l: Layer): string {
  let shape: (number | null)[] | (number | null)[][];
  try {
    shape = l.outputShape as (number | null)[] | (number | null)[][];
  } catch {
    return 'multiple';
  }
  if (l.getClassName() === 'InputLayer') return `[${pyShape(shape as (number | null)[])}]`;
  return Array.isArray(shape[0])
    ? `[${(shape as (number | null)[][]).map(pyShape).join(', ')}]`
    : pyShape(shape as (number | null)[]);
}

const countWeights = (ws: tf.LayerVariable[]) => {
  const seen = new Set<string>();
  let n = 0;
  for (const w of ws) {
    if (seen.has(w.name)) continue;
    seen.add(w.name);
    n += w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  }
  return n;
};

export interface ModelSummaryRow {
  name: string;
  type: string;
  outputShape: string;
  params: number;
  connectedTo: string[];
}
export interface ModelSummary {
  text: string;
  html: string;
  rows: ModelSummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}

/** Keras' test: a model is sequential-like when every depth has one node with one input, and no layer is reused. */
function isSequentialLike(model: tf.LayersModel, relevant: Set<unknown>): boolean {
  const byDepth = (model as unknown as { nodesByDepth?: Record<string, TfNode[]> }).nodesByDepth;
  if (!byDepth) return false;
  for (const nodes of Object.values(byDepth)) {
    if (nodes.length > 1 || (nodes.length === 1 && nodes[0].inboundLayers.length > 1)) return false;
  }
  return model.layers.every(
    (l) => (l.inboundNodes as unknown as TfNode[]).filter((n) => relevant.has(n)).length <= 1,
  );
}

/** Keras' `print_row`: fixed columns, long cells continue on the next line (breaking after "',"). */
function printRow(fields: string[], positions: number[]): string[] {
  const left = [...fields];
  const lines: string[] = [];
  while (left.some((s) => s.length > 0)) {
    let line = '';
    for (let col = 0; col < left.length; col++) {
      const start = col > 0 ? positions[col - 1] : 0;
      const space = col !== positions.length - 1 ? 2 : 0;
      let cutoff = positions[col] - start - space;
      let fit = left[col].slice(0, cutoff);
      const breaks = ['),', '},', '],', "',"]
        .map((b) => (fit.indexOf(b) >= 0 ? fit.indexOf(b) + b.length : -1))
        .filter((i) => i >= 0);
      if (breaks.length) {
        cutoff = Math.min(...breaks);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += ' ';
      line += fit + ' '.repeat(space);
      left[col] = left[col].slice(cutoff);
      line += ' '.repeat(Math.max(0, positions[col] - line.length));
    }
    lines.push(line);
  }
  return lines;
}

/** The summary table of `model` as Keras prints it, as text and HTML. */
export function modelSummary(model: tf.LayersModel): ModelSummary {
  const byDepth =
    (model as unknown as { nodesByDepth?: Record<string, TfNode[]> }).nodesByDepth ?? {};
  const relevant = new Set<unknown>(Object.values(byDepth).flat());
  const sequential = isSequentialLike(model, relevant);
  const rows: ModelSummaryRow[] = model.layers.map((l) => {
    const connectedTo: string[] = [];
    for (const node of l.inboundNodes as unknown as TfNode[]) {
      if (relevant.size && !relevant.has(node)) continue;
      node.inboundLayers.forEach((inb, i) =>
        connectedTo.push(`${inb.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`),
      );
    }
    return {
      name: l.name,
      type: className(l),
      outputShape: outputShape(l),
      params: l.countParams(),
      connectedTo,
    };
  });
  const trainableParams = countWeights(model.trainableWeights);
  const nonTrainableParams = countWeights(model.nonTrainableWeights);
  const totalParams = trainableParams + nonTrainableParams;

  const lineLength = sequential ? 65 : 98;
  const positions = (sequential ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1]).map((p) =>
    Math.floor(lineLength * p),
  );
  const header = sequential
    ? ['Layer (type)', 'Output Shape', 'Param #']
    : ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const out: string[] = [
    `Model: "${model.name}"`,
    '_'.repeat(lineLength),
    ...printRow(header, positions),
    '='.repeat(lineLength),
  ];
  rows.forEach((r, i) => {
    const fields = [`${r.name} (${r.type})`, r.outputShape, String(r.params)];
    if (!sequential) fields.push(`[${r.connectedTo.map((c) => `'${c}'`).join(', ')}]`);
    out.push(...printRow(fields, positions));
    out.push(i === rows.length - 1 ? '='.repeat(lineLength) : ' '.repeat(lineLength));
  });
  const fmt = (n: number) => n.toLocaleString('en-US');
  out.push(
    `Total params: ${fmt(totalParams)}`,
    `Trainable params: ${fmt(trainableParams)}`,
    `Non-trainable params: ${fmt(nonTrainableParams)}`,
    '_'.repeat(lineLength),
  );
  const notice = randomWeightsNotice(model);
  if (notice) out.push(notice);
  const text = out.map((l) => l.trimEnd()).join('\n');

  const th = header.map((h) => `<th style="text-align:left">${esc(h)}</th>`).join('');
  const trs = rows
    .map((r) => {
      const cells = [
        `${esc(r.name)} <span style="color:#777">(${esc(r.type)})</span>`,
        esc(r.outputShape),
        fmt(r.params),
      ];
      if (!sequential) cells.push(r.connectedTo.map(esc).join('<br>'));
      return `<tr>${cells.map((c, i) => `<td style="text-align:${i === 2 ? 'right' : 'left'};font-family:monospace">${c}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const html =
    `<div><b>Model: "${esc(model.name)}"</b><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody></table>` +
    `<p>Total params: ${fmt(totalParams)}<br>Trainable params: ${fmt(trainableParams)}<br>` +
    `Non-trainable params: ${fmt(nonTrainableParams)}</p>` +
    (notice ? `<p style="color:#b00;font-weight:bold">${esc(notice)}</p>` : '') +
    '</div>';
  return { text, html, rows, totalParams, trainableParams, nonTrainableParams };
}

/** Shows the summary: an HTML table in a notebook, Keras' text table elsewhere. */
export function showModelSummary(model: tf.LayersModel): ModelSummary {
  const s = modelSummary(model);
  showBundle({ 'text/html': s.html, 'text/plain': s.text });
  // A notebook prints a cell's last value: one line instead of the table a second time.
  return describeAs(
    s,
    (v) =>
      `[model summary: ${v.rows.length} layers, ${v.totalParams.toLocaleString('en-US')} params; .text, .html, .rows]`,
    { shown: true },
  );
}
