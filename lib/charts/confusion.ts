// Confusion matrix heatmap that stays readable at 196 classes: cells coloured by the fraction of
// the true class (row-normalised, i.e. per-class recall on the diagonal), only non-empty cells
// drawn, classes in a chosen order, and the largest off-diagonal confusions listed in a table.
import { showHtml } from '../display';
import { escapeHtml } from '../io/html';
import { toPlainText } from '../io/text';
import { formatPercent } from './format';
import { classOrder, defaultClassOrder, type ClassOrder } from '../evaluate/order';
import {
  MIN_FONT_SIZE,
  describeChart,
  renderChart,
  withDefaults,
  type Chart,
  type ShowOption,
} from './render';

export interface Confusion {
  trueClass: string;
  predictedClass: string;
  trueIndex: number;
  predictedIndex: number;
  count: number;
  /** count / number of images of the true class. */
  fraction: number;
}

export interface PlotConfusionMatrixOptions extends ShowOption {
  /** How many off-diagonal confusions to list (default 10; 0 for none). */
  topConfusions?: number;
  /**
   * Class order on both axes: 'numeric' (class names that are numbers, by value: 0, 1, 2, …, 10 —
   * the default when every name is an integer, as GTSRB's), 'index' (classNames order, the default
   * otherwise; folder names sort as strings: '0', '1', '10', …), 'name' (alphabetical: car makes group
   * together), 'recall' (worst classes first).
   */
  order?: ClassOrder | 'recall';
  title?: string;
  /** Side of the matrix in pixels (default about 560; small class counts get larger cells). */
  size?: number;
}

export interface ConfusionMatrixChart extends Chart {
  confusions: Confusion[];
  /** HTML table of the top confusions. */
  html: string;
}

/** Off-diagonal cells, largest count first (then largest fraction, then class index). */
export function topConfusions(cm: number[][], classNames: string[], n = 10): Confusion[] {
  const out: Confusion[] = [];
  cm.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      if (p !== t && count > 0) {
        out.push({
          trueClass: classNames[t],
          predictedClass: classNames[p],
          trueIndex: t,
          predictedIndex: p,
          count,
          fraction: count / support,
        });
      }
    });
  });
  out.sort(
    (a, b) =>
      b.count - a.count ||
      b.fraction - a.fraction ||
      a.trueIndex - b.trueIndex ||
      a.predictedIndex - b.predictedIndex,
  );
  return out.slice(0, n);
}

function confusionsHtml(list: Confusion[]): string {
  if (!list.length) return '<p>No confusions: every image was classified correctly.</p>';
  const rows = list
    .map(
      (c, i) =>
        `<tr><td style="text-align:right">${i + 1}</td><td style="text-align:left">${escapeHtml(c.trueClass)}</td>` +
        `<td style="text-align:left">${escapeHtml(c.predictedClass)}</td><td style="text-align:right">${c.count}</td>` +
        `<td style="text-align:right">${formatPercent(c.fraction, 1)}</td></tr>`,
    )
    .join('');
  return (
    `<table><caption style="text-align:left;font-weight:bold">Top ${list.length} confusions</caption>` +
    `<thead><tr><th>#</th><th style="text-align:left">true class</th><th style="text-align:left">predicted as</th><th>images</th><th>% of true class</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}

function confusionsText(list: Confusion[]): string {
  return list
    .map(
      (c, i) =>
        `${String(i + 1).padStart(3)}. ${toPlainText(c.trueClass)} -> ${toPlainText(c.predictedClass)}: ${c.count} (${formatPercent(c.fraction, 1)})`,
    )
    .join('\n');
}

/**
 * Heatmap of a confusion matrix (rows: true class, columns: predicted; from `confusionMatrix`)
 * plus a table of the top confusions. Shows two outputs: the chart and the table.
 */
export function plotConfusionMatrix(
  cm: number[][],
  classNames: string[],
  opts: PlotConfusionMatrixOptions = {},
): ConfusionMatrixChart {
  const k = classNames.length;
  if (!k || cm.length !== k || cm.some((r) => r.length !== k)) {
    throw new Error(
      `plotConfusionMatrix: the matrix must be ${k}×${k} for ${k} class names; build it with confusionMatrix(labels, predicted, classNames.length).`,
    );
  }
  const support = cm.map((r) => r.reduce((a, b) => a + b, 0));
  const total = support.reduce((a, b) => a + b, 0);
  const correct = cm.reduce((a, r, i) => a + r[i], 0);
  const recall = cm.map((r, i) => (support[i] ? r[i] / support[i] : 0));
  const orderBy = opts.order ?? defaultClassOrder(classNames);
  const order =
    orderBy === 'recall'
      ? [...Array(k).keys()].sort((a, b) => recall[a] - recall[b] || a - b)
      : classOrder(classNames, orderBy);
  // Axis values must be unique: disambiguate repeated names with their index.
  const unique = new Set(classNames).size === k;
  const key = (i: number) => (unique ? classNames[i] : `${i}: ${classNames[i]}`);
  const domain = order.map(key);
  const cells: Record<string, unknown>[] = [];
  cm.forEach((row, t) =>
    row.forEach((count, p) => {
      if (count > 0)
        cells.push({ true: key(t), predicted: key(p), count, fraction: count / support[t] });
    }),
  );
  const many = k > 60; // beyond this, labels would overlap: the table names the classes instead
  const step = Math.max(2, Math.min(28, Math.floor((opts.size ?? (k <= 10 ? 360 : 560)) / k)));
  const axis = (title: string) => ({
    title,
    ...(many
      ? { labels: false, ticks: false }
      : { labelLimit: 140, labelFontSize: step >= 12 ? MIN_FONT_SIZE : 9 }),
  });
  const orderName = {
    name: 'by name',
    recall: 'worst recall first',
    numeric: 'numeric order',
    index: 'in class order',
  }[orderBy];
  const layers: Record<string, unknown>[] = [
    {
      // No per-cell ARIA labels: thousands of them would triple the SVG (the table lists what matters).
      mark: { type: 'rect', aria: false },
      encoding: {
        x: {
          field: 'predicted',
          type: 'ordinal',
          scale: { domain },
          axis: {
            ...axis(many ? `predicted class (${k}, ${orderName})` : 'predicted class'),
            labelAngle: -45,
          },
        },
        y: {
          field: 'true',
          type: 'ordinal',
          scale: { domain },
          axis: axis(many ? `true class (${k}, ${orderName})` : 'true class'),
        },
        color: {
          field: 'fraction',
          type: 'quantitative',
          scale: { scheme: 'blues', domain: [0, 1] },
          legend: {
            title: '% of true class',
            format: '.0%',
            gradientLength: Math.min(200, step * k),
          },
        },
        tooltip: [
          { field: 'true', type: 'nominal', title: 'true' },
          { field: 'predicted', type: 'nominal', title: 'predicted' },
          { field: 'count', type: 'quantitative' },
          { field: 'fraction', type: 'quantitative', format: '.1%', title: '% of true class' },
        ],
      },
    },
  ];
  if (k <= 20) {
    // Few classes: write the counts in the cells, white on dark cells.
    layers.push({
      mark: { type: 'text', fontSize: 11 },
      encoding: {
        x: { field: 'predicted', type: 'ordinal', scale: { domain } },
        y: { field: 'true', type: 'ordinal', scale: { domain } },
        text: { field: 'count', type: 'quantitative' },
        color: { condition: { test: 'datum.fraction > 0.5', value: 'white' }, value: 'black' },
      },
    });
  }
  const accuracy = total ? correct / total : 0;
  const title = opts.title ?? 'Confusion matrix';
  const subtitle = `${k} classes${orderBy === 'index' ? '' : ` (${orderName})`}, ${total} images, accuracy ${formatPercent(accuracy, 1)}; colour = share of the true class`;
  const spec = withDefaults({
    title: { text: title, subtitle },
    data: { values: cells },
    width: { step },
    height: { step },
    layer: layers,
  });
  const n = opts.topConfusions ?? 10;
  const confusions = topConfusions(cm, classNames, n);
  const html = confusionsHtml(confusions);
  const text =
    `${title}: ${subtitle}` +
    (confusions.length
      ? `\nTop confusions (true -> predicted):\n${confusionsText(confusions)}`
      : '');
  const chart = renderChart(spec, `${title}: ${subtitle}`, opts);
  if (opts.show !== false && n > 0)
    showHtml(html, confusions.length ? confusionsText(confusions) : 'No confusions.');
  return describeChart(
    { ...chart, text, confusions, html },
    ', .confusions, .html',
    opts.show !== false,
  );
}
