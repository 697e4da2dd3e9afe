// sklearn-style classification report: per-class precision, recall, F1 and support, plus accuracy,
// macro and weighted averages; as numbers, as sklearn's fixed-width text, and as an HTML table.
import { confusionMatrix } from './metrics';
import { describeAs, showBundle } from '../display';
import { escapeHtml } from '../io/html';
import { classOrder, type ClassOrder } from './order';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true examples of the class. */
  support: number;
}

export interface ClassificationReport {
  classes: (ClassScores & { className: string })[];
  accuracy: number;
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
  /** Fixed-width text laid out like sklearn.metrics.classification_report. */
  text: string;
  /** The same table as HTML (scrolls when there are many classes). */
  html: string;
}

export interface ClassificationReportOptions {
  /** Decimals in text/HTML (sklearn's `digits`, default 2). */
  digits?: number;
  /** Display the report (HTML in a notebook, text elsewhere). Default true. */
  show?: boolean;
  /**
   * Row order: 'numeric' (names that are numbers by value: 0, 1, 2, …; the default when every name
   * is an integer), 'index' (classNames order, the default otherwise), 'name' (alphabetical).
   * `classes` stays in index order; only the text and HTML follow this.
   */
  order?: ClassOrder;
}

// sklearn's zero_division default ("warn") yields 0 for 0/0, e.g. precision of a class never predicted.
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Per-class precision/recall/F1 for integer labels. Every class in `classNames` gets a row, also
 * classes absent from both yTrue and yPred (all zeros, support 0); macro averages include them,
 * as sklearn does when given `labels=range(len(classNames))`.
 */
export function classificationReport(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: string[],
  opts: ClassificationReportOptions = {},
): ClassificationReport {
  if (!classNames.length)
    throw new Error('classificationReport: classNames is empty; pass dataset.classNames.');
  const cm = confusionMatrix(yTrue, yPred, classNames.length);
  const k = classNames.length;
  const classes = classNames.map((className, c) => {
    const tp = cm[c][c];
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += cm[t][c];
    const support = cm[c].reduce((a, b) => a + b, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    return { className, precision, recall, f1, support };
  });
  const total = classes.reduce((a, c) => a + c.support, 0);
  const avg = (weight: (c: ClassScores) => number): ClassScores => {
    const w = classes.map(weight);
    const wsum = w.reduce((a, b) => a + b, 0);
    const mean = (f: (c: ClassScores) => number) =>
      ratio(
        classes.reduce((a, c, i) => a + w[i] * f(c), 0),
        wsum,
      );
    return {
      precision: mean((c) => c.precision),
      recall: mean((c) => c.recall),
      f1: mean((c) => c.f1),
      support: total,
    };
  };
  let correct = 0;
  for (let c = 0; c < k; c++) correct += cm[c][c];
  const accuracy = ratio(correct, total);
  const macroAvg = avg(() => 1);
  const weightedAvg = avg((c) => c.support);
  const digits = opts.digits ?? 2;
  const report = { classes, accuracy, macroAvg, weightedAvg, text: '', html: '' };
  const shown = { ...report, classes: classOrder(classNames, opts.order).map((c) => classes[c]) };
  report.text = reportText(shown, digits);
  report.html = reportHtml(shown, digits);
  if (opts.show !== false) showBundle({ 'text/html': report.html, 'text/plain': report.text });
  return describeAs(
    report,
    (r) =>
      `[classification report: accuracy ${r.accuracy.toFixed(4)}; .classes (${r.classes.length}), .accuracy, .macroAvg, .weightedAvg, .text, .html]`,
    { shown: opts.show !== false },
  );
}

type ReportNumbers = Pick<
  ClassificationReport,
  'classes' | 'accuracy' | 'macroAvg' | 'weightedAvg'
>;

/** sklearn's layout: names right-aligned to the longest name, then four 9-wide columns. */
function reportText(r: ReportNumbers, digits: number): string {
  const width = Math.max(
    'weighted avg'.length,
    digits,
    ...r.classes.map((c) => c.className.length),
  );
  const num = (v: number) => v.toFixed(digits).padStart(9);
  const head =
    ''.padStart(width) +
    ' ' +
    ['precision', 'recall', 'f1-score', 'support'].map((h) => ' ' + h.padStart(9)).join('');
  const row = (name: string, s: ClassScores) =>
    name.padStart(width) +
    ' ' +
    ' ' +
    num(s.precision) +
    ' ' +
    num(s.recall) +
    ' ' +
    num(s.f1) +
    ' ' +
    String(s.support).padStart(9);
  const lines = [head, '', ...r.classes.map((c) => row(c.className, c)), ''];
  lines.push(
    'accuracy'.padStart(width) +
      ' ' +
      ' '.repeat(20) +
      ' ' +
      num(r.accuracy) +
      ' ' +
      String(r.macroAvg.support).padStart(9),
  );
  lines.push(row('macro avg', r.macroAvg), row('weighted avg', r.weightedAvg));
  return lines.join('\n') + '\n';
}

function reportHtml(r: ReportNumbers, digits: number): string {
  const td = (v: number) => `<td style="text-align:right">${v.toFixed(digits)}</td>`;
  const row = (name: string, s: ClassScores, style = '') =>
    `<tr${style}><td style="text-align:left">${escapeHtml(name)}</td>${td(s.precision)}${td(s.recall)}${td(s.f1)}<td style="text-align:right">${s.support}</td></tr>`;
  const body = r.classes.map((c) => row(c.className, c)).join('');
  const sep = ' style="border-top:2px solid #888"';
  const foot =
    `<tr${sep}><td style="text-align:left">accuracy</td><td></td><td></td>${td(r.accuracy)}<td style="text-align:right">${r.macroAvg.support}</td></tr>` +
    row('macro avg', r.macroAvg) +
    row('weighted avg', r.weightedAvg);
  const table =
    `<table><thead><tr><th style="text-align:left">class</th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr></thead>` +
    `<tbody>${body}${foot}</tbody></table>`;
  // Many classes (196 cars): keep the output short and scrollable.
  // (The HTML report's print rules undo the scroll box: on paper every row prints.)
  return r.classes.length > 25
    ? `<div class="nb-scroll" style="max-height:420px;overflow-y:auto">${table}</div>`
    : table;
}
