// Results at a glance: one row per phase or run (accuracy, top-k, loss, epochs, time), beside the
// walkthrough's published numbers, with the difference only when the setups match. HTML in a
// notebook, markdown for reports, aligned text in a terminal.
import { describeAs, showBundle } from '../display';
import { escapeHtml } from '../io/html';
import { escapeMarkdown, toPlainText } from '../io/text';
import { formatPercent, formatPoints, formatSeconds } from './format';

export interface ResultRow {
  /** Phase or run: 'baseline', 'transfer learning', 'fine-tuning', 'lr 1e-4', ... */
  name: string;
  accuracy?: number;
  topKAccuracy?: number;
  loss?: number;
  /** k of topKAccuracy (an EvaluationResult spread into the row carries it). */
  topK?: number;
  /** How many epochs the phase ran (`history.epochs.length`): a cell of the table, not fit's `epochs`. */
  epochs?: number;
  /** 1-based best epoch. */
  bestEpoch?: number;
  /** The phase's time: `historySeconds(history)`, the number its [Time] line printed. */
  seconds?: number;
  note?: string;
}

export interface PublishedResult {
  accuracy?: number;
  topKAccuracy?: number;
  loss?: number;
  seconds?: number;
}

/** What a walkthrough published: numbers by row name, where they come from, and on what. */
export interface PublishedResults {
  /** Where the numbers come from (shown under the table). */
  source: string;
  /** The dataset they were measured on, for "…instead of the real <dataset>". */
  dataset?: string;
  /** k of their top-k accuracy. */
  topK?: number;
  rows: Record<string, PublishedResult>;
}

/**
 * How this run was set up: the table's title says it, and it decides whether a difference to the
 * published numbers means anything (only with profile full, ImageNet weights and the real data).
 * `weights` takes weightsLabel(model) (or any label), `data` what gtsrbFolders / carsFolders return (or a label).
 */
export interface ResultsSetup {
  profile: string;
  imageSize?: readonly number[];
  weights: string | { label: string; weights?: string | null };
  data: string | { label: string; source?: 'real' | 'synthetic' };
}

export interface ResultsTableOptions {
  /** Published numbers (an entry of PUBLISHED_RESULTS, or its rows), shown beside this run's. */
  published?: PublishedResults | Record<string, PublishedResult>;
  /** Where the published numbers come from (default: the entry's source). */
  source?: string;
  /** This run's profile, image size, weights and data: the title, and whether Δ is shown. */
  setup?: ResultsSetup;
  /** k for the "top-k" column header (default: the rows' topK). */
  topK?: number;
  /** A title above the "This run: …" line. */
  title?: string;
  show?: boolean;
}

export interface ResultsTable {
  html: string;
  markdown: string;
  text: string;
  /** True when the published numbers were measured like this run, so the table shows Δ. */
  comparable: boolean;
}

const labelOf = (v: string | { label: string }) => (typeof v === 'string' ? v : v.label);

/** "This run: profile quick, 64×64, random initialisation, synthetic signs (…)" */
export function describeSetup(setup: ResultsSetup): string {
  const size = setup.imageSize?.length ? `${setup.imageSize.slice(0, 2).join('×')}` : '';
  return `This run: ${[`profile ${setup.profile}`, size, labelOf(setup.weights), labelOf(setup.data)].filter(Boolean).join(', ')}`;
}

/**
 * Why this run's numbers cannot be set against the walkthrough's (empty when they can): the
 * walkthrough is profile full, on ImageNet weights and the real dataset.
 */
export function notComparableBecause(
  setup: ResultsSetup | undefined,
  dataset = 'dataset',
): string[] {
  if (!setup)
    return ["the run's setup is not given (pass setup: { profile, imageSize, weights, data })"];
  const reasons: string[] = [];
  if (setup.profile !== 'full')
    reasons.push(`profile ${setup.profile} (the walkthrough's settings are profile full)`);
  const w = setup.weights;
  const imagenet =
    typeof w === 'string'
      ? /imagenet/i.test(w)
      : w.weights !== undefined
        ? w.weights === 'imagenet'
        : /imagenet/i.test(w.label);
  if (!imagenet) reasons.push(`${labelOf(w)} instead of ImageNet weights`);
  const d = setup.data;
  const real =
    typeof d === 'string'
      ? !/synthetic|stand-in/i.test(d)
      : d.source !== undefined
        ? d.source === 'real'
        : !/synthetic|stand-in/i.test(d.label);
  if (!real) reasons.push(`${labelOf(d)} instead of the real ${dataset}`);
  return reasons;
}

/**
 * Numbers reported by the walkthroughs this project follows (validation set unless noted), for
 * `resultsTable(rows, { published: PUBLISHED_RESULTS.inceptionV3Cars, setup })`.
 */
export const PUBLISHED_RESULTS = {
  inceptionV3Cars: {
    source: 'InceptionV3 fine-tuning walkthrough, Stanford Cars (196 classes), validation set',
    dataset: 'Stanford Cars',
    topK: 3,
    rows: {
      baseline: { accuracy: 0.0037, topKAccuracy: 0.0121 },
      'transfer learning': { accuracy: 0.564, topKAccuracy: 0.765, seconds: 273 * 60 },
      'fine-tuning': { accuracy: 0.573, topKAccuracy: 0.774, loss: 2.8, seconds: 38 * 60 },
    } as Record<string, PublishedResult>,
  },
  resnet50Cars: {
    source: 'ResNet50 transfer-learning walkthrough, Stanford Cars, validation set ("around 55%")',
    dataset: 'Stanford Cars',
    topK: 3,
    rows: {
      baseline: { accuracy: 0.0037 },
      'transfer learning': { accuracy: 0.55 },
    } as Record<string, PublishedResult>,
  },
  vgg16Gtsrb: {
    source:
      'VGG16 fine-tuning walkthrough, GTSRB 40 images per class (28 train + 12 validation), last epoch',
    dataset: 'GTSRB',
    topK: 5,
    rows: {
      'fine-tuning (validation)': { accuracy: 0.96899, loss: 0.2014 },
      'fine-tuning (test)': { accuracy: 0.96255, loss: 0.2244 },
    } as Record<string, PublishedResult>,
  },
} satisfies Record<string, PublishedResults>;

interface Column {
  header: string;
  align: 'left' | 'right';
  cell: (r: ResultRow) => string;
}

const isPublishedResults = (
  p: PublishedResults | Record<string, PublishedResult>,
): p is PublishedResults =>
  typeof (p as PublishedResults).source === 'string' &&
  typeof (p as PublishedResults).rows === 'object';

/**
 * The results of this run, one row per phase or run, with the walkthrough's published numbers beside
 * them. A difference (Δ) is shown only when this run was set up like the walkthrough (profile full,
 * ImageNet weights, the real dataset); otherwise one line under the table says why the numbers are not
 * comparable. Shows it (HTML + markdown + text) unless show: false.
 */
export function resultsTable(rows: ResultRow[], opts: ResultsTableOptions = {}): ResultsTable {
  if (!rows.length)
    throw new Error(
      "resultsTable: no rows; pass [{ name: 'transfer learning', accuracy, topKAccuracy, loss, seconds }, ...].",
    );
  const entry = opts.published && isPublishedResults(opts.published) ? opts.published : undefined;
  const pub: Record<string, PublishedResult> = entry
    ? entry.rows
    : ((opts.published as Record<string, PublishedResult>) ?? {});
  const source = opts.source ?? entry?.source;
  const hasPublished = Object.keys(pub).length > 0;
  const unknown = Object.keys(pub).filter((k) => !rows.some((r) => r.name === k));
  const reasons = hasPublished ? notComparableBecause(opts.setup, entry?.dataset) : [];
  const comparable = hasPublished && reasons.length === 0;
  const k = opts.topK ?? rows.find((r) => r.topK !== undefined)?.topK ?? entry?.topK;
  const ours = (get: (r: ResultRow | PublishedResult) => number | undefined) =>
    rows.some((r) => get(r) !== undefined);
  const published = (get: (r: ResultRow | PublishedResult) => number | undefined) =>
    rows.some((r) => pub[r.name] && get(pub[r.name]) !== undefined);
  const cols: Column[] = [{ header: 'phase / run', align: 'left', cell: (r) => r.name }];
  const metric = (
    header: string,
    get: (r: ResultRow | PublishedResult) => number | undefined,
    fmt: (v: number) => string,
    diff?: (a: number, b: number) => string,
  ) => {
    if (!ours(get)) return;
    cols.push({ header, align: 'right', cell: (r) => (get(r) === undefined ? '' : fmt(get(r)!)) });
    if (!published(get)) return;
    const theirs = (r: ResultRow) => (pub[r.name] ? get(pub[r.name]) : undefined);
    cols.push({
      header: 'published',
      align: 'right',
      cell: (r) => (theirs(r) === undefined ? '' : fmt(theirs(r)!)),
    });
    if (!comparable || !diff) return;
    cols.push({
      header: 'Δ pp',
      align: 'right',
      cell: (r) =>
        get(r) === undefined || theirs(r) === undefined ? '' : diff(get(r)!, theirs(r)!),
    });
  };
  // Percentage points, the unit in the header: "+0.93".
  const points = (a: number, b: number) => formatPoints(a - b).replace(' pp', '');
  metric(
    'accuracy',
    (r) => r.accuracy,
    (v) => formatPercent(v),
    points,
  );
  metric(
    k ? `top-${k} accuracy` : 'top-k accuracy',
    (r) => r.topKAccuracy,
    (v) => formatPercent(v),
    points,
  );
  metric(
    'loss',
    (r) => r.loss,
    (v) => v.toFixed(4),
  );
  if (rows.some((r) => r.epochs !== undefined))
    cols.push({
      header: 'epochs',
      align: 'right',
      cell: (r) =>
        r.epochs === undefined ? '' : `${r.epochs}${r.bestEpoch ? ` (best ${r.bestEpoch})` : ''}`,
    });
  // This run's training time only: the walkthroughs ran on other hardware, a ratio means nothing.
  if (rows.some((r) => r.seconds !== undefined))
    cols.push({ header: 'time', align: 'right', cell: (r) => formatSeconds(r.seconds) });
  if (rows.some((r) => r.note))
    cols.push({ header: 'note', align: 'left', cell: (r) => r.note ?? '' });

  const cells = rows.map((r) => cols.map((c) => c.cell(r)));
  const captionLines = [opts.title, opts.setup ? describeSetup(opts.setup) : undefined].filter(
    (x): x is string => Boolean(x),
  );
  const footer = [
    source ? `Published: ${source}.` : '',
    comparable
      ? 'Δ pp = this run − published, in percentage points (same profile, weights and data).'
      : reasons.length
        ? `Not comparable, so no difference is shown: ${reasons.join('; ')}.`
        : '',
    unknown.length
      ? `No row named ${unknown.map((u) => `"${u}"`).join(', ')} to compare with.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');

  const th = cols
    .map((c) => `<th style="text-align:${c.align}">${escapeHtml(c.header)}</th>`)
    .join('');
  const body = cells
    .map(
      (row) =>
        `<tr>${row.map((v, i) => `<td style="text-align:${cols[i].align}">${escapeHtml(v)}</td>`).join('')}</tr>`,
    )
    .join('');
  const html =
    `<table class="nb-results">${captionLines.length ? `<caption style="text-align:left;font-weight:bold">${captionLines.map(escapeHtml).join('<br>')}</caption>` : ''}` +
    `<thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>` +
    (footer ? `<p style="font-size:smaller;color:#555">${escapeHtml(footer)}</p>` : '');

  const markdown = [
    ...captionLines.flatMap((l) => [`**${escapeMarkdown(l)}**`, '']),
    `| ${cols.map((c) => escapeMarkdown(c.header)).join(' | ')} |`,
    `|${cols.map((c) => (c.align === 'right' ? ' ---: ' : ' :--- ')).join('|')}|`,
    ...cells.map((row) => `| ${row.map(escapeMarkdown).join(' | ')} |`),
    ...(footer ? ['', `_${escapeMarkdown(footer)}_`] : []),
  ].join('\n');

  // Plain text: one name stays on one line, control characters shown, not obeyed.
  const plainCells = cells.map((row) => row.map(toPlainText));
  const widths = cols.map((c, i) =>
    Math.max(c.header.length, ...plainCells.map((row) => row[i].length)),
  );
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (cols[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const text = [
    ...captionLines.map(toPlainText),
    line(cols.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...plainCells.map(line),
    ...(footer ? [toPlainText(footer)] : []),
  ].join('\n');

  if (opts.show !== false)
    showBundle({ 'text/html': html, 'text/markdown': markdown, 'text/plain': text });
  return describeAs(
    { html, markdown, text, comparable },
    () => `[results table: .html, .markdown, .text, .comparable]`,
    { shown: opts.show !== false },
  );
}
