// Results at a glance: one row per phase or run (accuracy, top-k, loss, epochs, time), optionally
// beside the walkthrough's published numbers with the difference. HTML in a notebook, markdown
// for reports, aligned text in a terminal.
import { describeAs, showBundle } from '../display';
import { escapeHtml, formatPercent, formatPoints, formatSeconds } from './format';

export interface ResultRow {
  /** Phase or run: 'baseline', 'transfer learning', 'fine-tuning', 'lr 1e-4', ... */
  name: string;
  accuracy?: number;
  topKAccuracy?: number;
  loss?: number;
  /** k of topKAccuracy (an EvaluationResult spread into the row carries it). */
  topK?: number;
  epochs?: number;
  /** 1-based best epoch. */
  bestEpoch?: number;
  /** Training time of the phase. */
  seconds?: number;
  note?: string;
}

export interface PublishedResult {
  accuracy?: number;
  topKAccuracy?: number;
  loss?: number;
  seconds?: number;
}

export interface ResultsTableOptions {
  /** Published numbers by row name, shown beside ours with the difference (ours − published). */
  published?: Record<string, PublishedResult>;
  /** Where the published numbers come from (shown under the table). */
  source?: string;
  /** k for the "top-k" column header (default: the rows' topK). */
  topK?: number;
  title?: string;
  show?: boolean;
}

export interface ResultsTable {
  html: string;
  markdown: string;
  text: string;
}

/**
 * Numbers reported by the walkthroughs this project follows (validation set unless noted), for
 * `resultsTable(rows, { published: PUBLISHED_RESULTS.inceptionV3Cars.rows })`.
 */
export const PUBLISHED_RESULTS = {
  inceptionV3Cars: {
    source: 'InceptionV3 fine-tuning walkthrough, Stanford Cars (196 classes), validation set',
    topK: 3,
    rows: {
      baseline: { accuracy: 0.0037, topKAccuracy: 0.0121 },
      'transfer learning': { accuracy: 0.564, topKAccuracy: 0.765, seconds: 273 * 60 },
      'fine-tuning': { accuracy: 0.573, topKAccuracy: 0.774, loss: 2.8, seconds: 38 * 60 },
    } as Record<string, PublishedResult>,
  },
  resnet50Cars: {
    source: 'ResNet50 transfer-learning walkthrough, Stanford Cars, validation set ("around 55%")',
    topK: 3,
    rows: {
      baseline: { accuracy: 0.0037 },
      'transfer learning': { accuracy: 0.55 },
    } as Record<string, PublishedResult>,
  },
  vgg16Gtsrb: {
    source: 'VGG16 fine-tuning walkthrough, GTSRB 40 images per class (28 train + 12 validation), last epoch',
    topK: 5,
    rows: {
      'fine-tuning (validation)': { accuracy: 0.96899, loss: 0.2014 },
      'fine-tuning (test)': { accuracy: 0.96255, loss: 0.2244 },
    } as Record<string, PublishedResult>,
  },
};

interface Column {
  header: string;
  align: 'left' | 'right';
  cell: (r: ResultRow) => string;
}

/** Build the table of results; shows it (HTML + markdown + text bundle) unless show: false. */
export function resultsTable(rows: ResultRow[], opts: ResultsTableOptions = {}): ResultsTable {
  if (!rows.length) throw new Error("resultsTable: no rows; pass [{ name: 'transfer learning', accuracy, topKAccuracy, loss, seconds }, ...].");
  const pub = opts.published ?? {};
  const unknown = Object.keys(pub).filter((k) => !rows.some((r) => r.name === k));
  const k = opts.topK ?? rows.find((r) => r.topK !== undefined)?.topK;
  const has = (f: (r: ResultRow | PublishedResult) => unknown) => rows.some((r) => f(r) !== undefined) || Object.values(pub).some((p) => f(p) !== undefined);
  const cols: Column[] = [{ header: 'phase / run', align: 'left', cell: (r) => r.name }];
  const metric = (
    header: string,
    get: (r: ResultRow | PublishedResult) => number | undefined,
    fmt: (v: number) => string,
    diff: (a: number, b: number) => string,
  ) => {
    if (!has(get)) return;
    cols.push({ header, align: 'right', cell: (r) => (get(r) === undefined ? '' : fmt(get(r)!)) });
    if (!Object.values(pub).some((p) => get(p) !== undefined)) return;
    cols.push({ header: `published`, align: 'right', cell: (r) => (pub[r.name] && get(pub[r.name]) !== undefined ? fmt(get(pub[r.name])!) : '') });
    cols.push({
      header: 'Δ',
      align: 'right',
      cell: (r) => {
        const a = get(r);
        const b = pub[r.name] ? get(pub[r.name]) : undefined;
        return a === undefined || b === undefined ? '' : diff(a, b);
      },
    });
  };
  const signed = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(4)}`;
  metric('accuracy', (r) => r.accuracy, (v) => formatPercent(v), (a, b) => formatPoints(a - b));
  metric(k ? `top-${k} accuracy` : 'top-k accuracy', (r) => r.topKAccuracy, (v) => formatPercent(v), (a, b) => formatPoints(a - b));
  metric('loss', (r) => r.loss, (v) => v.toFixed(4), (a, b) => signed(a - b));
  if (rows.some((r) => r.epochs !== undefined)) cols.push({ header: 'epochs', align: 'right', cell: (r) => (r.epochs === undefined ? '' : `${r.epochs}${r.bestEpoch ? ` (best ${r.bestEpoch})` : ''}`) });
  metric('time', (r) => r.seconds, formatSeconds, (a, b) => `${(a / b).toFixed(2)}×`);
  if (rows.some((r) => r.note)) cols.push({ header: 'note', align: 'left', cell: (r) => r.note ?? '' });

  const cells = rows.map((r) => cols.map((c) => c.cell(r)));
  const footer = [opts.source ? `Published: ${opts.source}.` : '', unknown.length ? `No row named ${unknown.map((u) => `"${u}"`).join(', ')} to compare with.` : '']
    .filter(Boolean)
    .join(' ');

  const th = cols.map((c) => `<th style="text-align:${c.align}">${escapeHtml(c.header)}</th>`).join('');
  const body = cells.map((row) => `<tr>${row.map((v, i) => `<td style="text-align:${cols[i].align}">${escapeHtml(v)}</td>`).join('')}</tr>`).join('');
  const html =
    `<table>${opts.title ? `<caption style="text-align:left;font-weight:bold">${escapeHtml(opts.title)}</caption>` : ''}` +
    `<thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>` +
    (footer ? `<p style="font-size:smaller;color:#555">${escapeHtml(footer)}</p>` : '');

  const mdEscape = (s: string) => s.replace(/\|/g, '\\|');
  const markdown = [
    ...(opts.title ? [`**${mdEscape(opts.title)}**`, ''] : []),
    `| ${cols.map((c) => mdEscape(c.header)).join(' | ')} |`,
    `|${cols.map((c) => (c.align === 'right' ? ' ---: ' : ' :--- ')).join('|')}|`,
    ...cells.map((row) => `| ${row.map(mdEscape).join(' | ')} |`),
    ...(footer ? ['', `_${mdEscape(footer)}_`] : []),
  ].join('\n');

  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (cols[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const text = [
    ...(opts.title ? [opts.title] : []),
    line(cols.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    ...(footer ? [footer] : []),
  ].join('\n');

  if (opts.show !== false) showBundle({ 'text/html': html, 'text/markdown': markdown, 'text/plain': text });
  return describeAs({ html, markdown, text }, () => `[results table: .html, .markdown, .text]`, { shown: opts.show !== false });
}
