// Learning curves from a History (lib/train/types.ts): per-metric panels with training and
// validation side by side, the best epoch marked, and a dotted red line where each later phase
// (e.g. fine-tuning) starts. Epochs are drawn 1-based, like Keras' "Epoch 1/100" and the
// walkthroughs' "best epoch" prints.
import type { History } from '../train/types';
import { bestEpoch, heldBest, mergeHistories, monitorMode } from '../train/history';
import type { MimeBundle } from '../display';
import { metricLabel } from './format';
import { panel, SPLIT_COLOURS, yAxisFor, type YAxis } from './history-panel';
import {
  chartBundle,
  renderChart,
  specToSvg,
  withDefaults,
  type Chart,
  type ShowOption,
  type VegaLiteSpec,
} from './render';

const NOT_METRICS = new Set(['lr', 'learning_rate']);

export interface PlotHistoryOptions extends ShowOption {
  /** Metric base names to draw, one panel each (default: every metric, accuracy first, loss last). */
  metrics?: string[];
  title?: string;
  /** Metric that decides the best epoch (default val_loss, else loss); mode follows the name (loss: min). */
  monitor?: string;
  /**
   * k of the top-k metric, to label its panel "Top-3 accuracy" (Keras' key name has no k). Default:
   * the k trainPhase recorded from the compiled metric (History.metricK).
   */
  topK?: number;
  /**
   * A second row with only the last phase's epochs on its own x range (e.g. the 5 fine-tuning
   * epochs after 20 of transfer learning, squeezed into a fifth of the full view). Same y axes.
   */
  zoomLastPhase?: boolean;
  /**
   * 'zero' (default): loss axes start at 0. 'fit': they span the values, and the subtitle says
   * the loss axis does not start at 0 (for a loss that moves little far above 0).
   */
  lossAxis?: 'zero' | 'fit';
  /** Pixel size of each panel. */
  width?: number;
  height?: number;
}

function checkHistory(fn: string, history: History): void {
  if (!history || !Array.isArray(history.epochs) || history.epochs.length === 0) {
    throw new Error(
      `${fn}: the history has no epochs; pass the History returned by training (after at least one epoch).`,
    );
  }
}

/** Every metric key present in any epoch. */
function metricKeys(history: History): Set<string> {
  const keys = new Set<string>();
  for (const e of history.epochs)
    for (const k of Object.keys(e.metrics)) if (!NOT_METRICS.has(k)) keys.add(k);
  return keys;
}

/** Base names (val_ stripped): accuracy-like first, top-k next, others, loss last. */
export function historyMetricNames(history: History): string[] {
  const bases = [...new Set([...metricKeys(history)].map((k) => k.replace(/^val_/, '')))];
  const rank = (b: string) => (b === 'loss' ? 3 : /top/.test(b) ? 1 : /acc/.test(b) ? 0 : 2);
  return bases.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Index of the best epoch by `monitor` (Keras mode rules, first on ties), or -1 if never logged.
 * Without an explicit monitor, the epoch EarlyStopping restored when it did (its minDelta can make
 * it keep an earlier epoch than the lowest val_loss): the chart marks the model the notebook uses.
 */
export function bestEpochIndex(
  history: History,
  monitor?: string,
): { index: number; monitor: string } {
  const m = monitor ?? (metricKeys(history).has('val_loss') ? 'val_loss' : 'loss');
  const best = monitor === undefined ? heldBest(history) : undefined;
  const found = best ?? bestEpoch(history, m);
  return { index: found ? history.epochs.indexOf(found) : -1, monitor: m };
}

/** The history's notes (weights, data) as one subtitle line under the title, or nothing. */
function notesLine(history: History): string[] {
  return history.notes?.length ? [history.notes.join('; ')] : [];
}

/** Phase boundaries after the first phase, as x positions between two epochs. */
function phaseMarks(history: History): { x: number; name: string }[] {
  return (history.phases ?? [])
    .filter((p) => p.startEpoch > 0 && p.startEpoch < history.epochs.length)
    .map((p) => ({ x: p.startEpoch + 0.5, name: p.name }));
}

/** k of a top-k metric: the option when given, else what trainPhase recorded for that key. */
function kOf(history: History, key: string, k?: number): number | undefined {
  return k ?? history.metricK?.[key.replace(/^val_/, '')];
}

/** A metric's y axis under the loss-axis option. */
function axisOf(metric: string, lossAxis: 'zero' | 'fit' | undefined): YAxis {
  const y = yAxisFor(metric);
  return y === 'loss' && lossAxis === 'fit' ? 'loss-fit' : y;
}

/** The subtitle line that says a loss axis does not start at 0, or nothing. */
function lossAxisNote(metrics: string[], lossAxis: 'zero' | 'fit' | undefined): string[] {
  return lossAxis === 'fit' && metrics.some((m) => yAxisFor(m) === 'loss')
    ? ['The loss axis spans the values and does not start at 0.']
    : [];
}

/** ", y axes as above (accuracy 0–1, loss from 0)" for the metrics drawn. */
function axisRules(metrics: string[], lossAxis: 'zero' | 'fit' | undefined): string {
  const axes = new Set(metrics.map((m) => axisOf(m, lossAxis)));
  const rules = [
    ...(axes.has('accuracy') ? ['accuracy 0–1'] : []),
    ...(axes.has('loss') ? ['loss from 0'] : []),
  ];
  return rules.length ? `, y axes as above (${rules.join(', ')})` : '';
}

/** The last phase's name, first index and epochs, for the zoomed row. */
function lastPhase(history: History): { name: string; start: number } {
  const phases = (history.phases ?? []).filter(
    (p) => p.startEpoch > 0 && p.startEpoch < history.epochs.length,
  );
  if (!phases.length) {
    throw new Error(
      'plotHistory: zoomLastPhase needs a history of two or more phases (e.g. mergeHistories(historyTL, historyFT)); this one has one. Leave zoomLastPhase out.',
    );
  }
  const p = phases[phases.length - 1];
  return { name: p.name, start: p.startEpoch };
}

/** The vega-lite spec of plotHistory (synchronous: for live charts during training). */
export function historyChartSpec(history: History, opts: PlotHistoryOptions = {}): VegaLiteSpec {
  checkHistory('plotHistory', history);
  const keys = metricKeys(history);
  const bases = opts.metrics ?? historyMetricNames(history);
  for (const b of bases) {
    if (!keys.has(b) && !keys.has(`val_${b}`)) {
      throw new Error(
        `plotHistory: metric "${b}" is not in the history (it has ${[...keys].join(', ')}); pass metrics from that list.`,
      );
    }
  }
  const { index: best, monitor } = bestEpochIndex(history, opts.monitor);
  const n = history.epochs.length;
  const width = opts.width ?? (bases.length >= 3 ? 210 : 300);
  const height = opts.height ?? 210;
  // One row of panels over epochs [from, n): the whole history, or the zoomed last phase.
  const row = (from: number, bestIndex: number, xTitle = 'epoch') =>
    bases.map((base) => {
      const rows: Record<string, unknown>[] = [];
      const points: { epoch: number; value: number }[] = [];
      history.epochs.forEach((e, i) => {
        if (i < from) return;
        for (const [key, split] of [
          [base, 'training'],
          [`val_${base}`, 'validation'],
        ] as const) {
          const v = e.metrics[key];
          if (v === undefined || !Number.isFinite(v)) continue;
          rows.push({ epoch: i + 1, value: v, split });
          if (i === bestIndex) points.push({ epoch: i + 1, value: v });
        }
      });
      const label = metricLabel(base, kOf(history, base, opts.topK));
      return panel({
        title: label,
        yTitle: label.toLowerCase(),
        rows,
        colour: 'split',
        phases: from === 0 ? phaseMarks(history) : [],
        best: bestIndex >= 0 ? { epoch: bestIndex + 1, points } : undefined,
        epochs: n,
        xDomain: from === 0 ? undefined : [from + 1, Math.max(from + 2, n)],
        y: axisOf(base, opts.lossAxis),
        xTitle,
        width,
        height,
      });
    });
  const phaseNames = (history.phases ?? []).map((p) => p.name);
  const title =
    opts.title ??
    (phaseNames.length > 1
      ? phaseNames.join(' → ')
      : phaseNames.length === 1 && phaseNames[0] !== 'training'
        ? `Training history: ${phaseNames[0]}`
        : 'Training history');
  const subtitle = [
    ...notesLine(history),
    best >= 0
      ? `${n} epochs; best epoch ${best + 1} (${monitorMode(monitor)} ${monitor}): ${bestSummary(history, best, opts.topK)}`
      : `${n} epochs`,
    ...lossAxisNote(bases, opts.lossAxis),
  ];
  const full = row(0, best);
  if (!opts.zoomLastPhase) {
    return withDefaults({
      title: { text: title, subtitle },
      hconcat: full,
      resolve: { scale: { color: 'shared' } },
    });
  }
  // The zoomed row marks the last phase's own best epoch (EarlyStopping's restore when it is in
  // that phase), which the full row may not show when phase 1 had the lowest val_loss.
  const last = lastPhase(history);
  const phaseOnly: History = {
    ...history,
    epochs: history.epochs.slice(last.start),
    phases: [{ name: last.name, startEpoch: 0 }],
  };
  const phaseBest = bestEpochIndex(phaseOnly, opts.monitor).index;
  const zoomBest = phaseBest >= 0 ? phaseBest + last.start : -1;
  const span = `epochs ${last.start + 1}–${n}`;
  subtitle.push(
    `Lower row: ${last.name} only (${span})${axisRules(bases, opts.lossAxis)}` +
      (zoomBest >= 0 ? `; its best epoch ${zoomBest + 1}.` : '.'),
  );
  return withDefaults({
    title: { text: title, subtitle },
    vconcat: [
      { hconcat: full },
      { hconcat: row(last.start, zoomBest, `epoch (${last.name} only)`) },
    ],
    resolve: { scale: { color: 'shared' } },
  });
}

/** "val accuracy 0.5495, val top-3 accuracy 0.7495, val loss 1.3059" (validation metrics when logged). */
function bestSummary(history: History, best: number, k?: number): string {
  const m = history.epochs[best].metrics;
  const keys = Object.keys(m).filter((key) => !NOT_METRICS.has(key) && Number.isFinite(m[key]));
  const shown = keys.some((key) => key.startsWith('val_'))
    ? keys.filter((key) => key.startsWith('val_'))
    : keys;
  const rank = (key: string) => historyMetricNames(history).indexOf(key.replace(/^val_/, ''));
  return shown
    .sort((a, b) => rank(a) - rank(b))
    .map(
      (key) =>
        `${key.startsWith('val_') ? 'val ' : ''}${metricLabel(key, kOf(history, key, k)).toLowerCase()} ${m[key].toFixed(4)}`,
    )
    .join(', ');
}

function historyText(spec: VegaLiteSpec): string {
  const t = (spec as { title?: { text: string; subtitle?: string | string[] } }).title;
  return t ? [t.text, ...[t.subtitle ?? []].flat()].join('\n') : '';
}

/**
 * Learning curves: one panel per metric (accuracy, top-k, loss), training and validation lines,
 * the best epoch (min val_loss unless `monitor` says otherwise) marked, phase starts dotted red.
 */
export function plotHistory(history: History, opts: PlotHistoryOptions = {}): Chart {
  const spec = historyChartSpec(history, opts);
  return renderChart(spec, historyText(spec), opts);
}

/**
 * The learning curves as a display bundle, synchronously: the live-chart hook of training
 * (`trainPhase(..., { onEpochChart: historyChartBundle })`) redraws it after every epoch.
 */
export function historyChartBundle(
  history: History,
  opts: Omit<PlotHistoryOptions, 'show'> = {},
): MimeBundle {
  const spec = historyChartSpec(history, opts);
  return chartBundle({ spec, svg: specToSvg(spec), text: historyText(spec) });
}

/**
 * Histories phase after phase (lib/train's mergeHistories); a history without phase marks
 * becomes one phase named by its key.
 */
export function concatHistories(histories: Record<string, History> | History[]): History {
  const entries = Array.isArray(histories)
    ? histories.map((h, i) => [`phase ${i + 1}`, h] as const)
    : Object.entries(histories);
  const named = entries.map(([name, h]) => {
    checkHistory('plotPhases', h);
    return h.phases?.length ? h : { ...h, phases: [{ name, startEpoch: 0 }] };
  });
  return named.reduce((a, b) => mergeHistories(a, b));
}

/**
 * Transfer learning followed by fine-tuning as one set of curves, with a dotted red line at each
 * phase start (the InceptionV3 walkthrough's combined plot). Takes a merged History, or the
 * phases' histories in order: `plotPhases({ 'transfer learning': h1, 'fine-tuning': h2 })`.
 */
export function plotPhases(
  history: History | Record<string, History> | History[],
  opts: PlotHistoryOptions = {},
): Chart {
  const merged =
    Array.isArray(history) || !('epochs' in history && Array.isArray((history as History).epochs))
      ? concatHistories(history as Record<string, History> | History[])
      : (history as History);
  checkHistory('plotPhases', merged);
  const spec = historyChartSpec(merged, opts);
  const marks = phaseMarks(merged)
    .map((p) => `${p.name} starts after epoch ${p.x - 0.5}`)
    .join('; ');
  return renderChart(spec, `${historyText(spec)}${marks ? `\n${marks}` : ''}`, opts);
}

export interface CompareHistoriesOptions extends ShowOption {
  /** Metric base name(s): 'accuracy' draws training and validation of every run; 'val_accuracy' only that key. Default 'accuracy'. */
  metric?: string | string[];
  title?: string;
  /** k of a top-k metric's label (default: the k the runs' training recorded). */
  topK?: number;
  /** As in plotHistory: 'zero' (default) starts loss axes at 0, 'fit' spans the values and says so. */
  lossAxis?: 'zero' | 'fit';
  width?: number;
  height?: number;
}

/** Runs side by side on the same axes, e.g. { 'from scratch': h1, 'fine-tuned': h2 } (the VGG16 walkthrough). */
export function compareHistories(
  runs: Record<string, History>,
  opts: CompareHistoriesOptions = {},
): Chart {
  const names = Object.keys(runs);
  if (names.length === 0)
    throw new Error(
      "compareHistories: no runs given; pass { 'from scratch': history1, 'fine-tuned': history2 }.",
    );
  for (const name of names) checkHistory(`compareHistories("${name}")`, runs[name]);
  const metrics =
    opts.metric === undefined
      ? ['accuracy']
      : Array.isArray(opts.metric)
        ? opts.metric
        : [opts.metric];
  const epochs = Math.max(...names.map((n) => runs[n].epochs.length));
  // Runs' notes (weights, data) go under the title: once when every run shares them, else one
  // line per run. Legend labels stay the short run names, so they are never cut.
  const notes = names.map((n) => (runs[n].notes ?? []).join('; '));
  const noteLines = notes.every((x) => x === notes[0])
    ? notes[0]
      ? [notes[0]]
      : []
    : names.map((n, i) => (notes[i] ? `${n}: ${notes[i]}` : '')).filter(Boolean);
  const finals: string[] = []; // one line per metric: last value of each run
  const panels = metrics.map((metric) => {
    const keys = metric.startsWith('val_')
      ? [[metric, 'validation']]
      : [
          [metric, 'training'],
          [`val_${metric}`, 'validation'],
        ];
    const rows: Record<string, unknown>[] = [];
    const lasts: string[] = [];
    for (const name of names) {
      const h = runs[name];
      for (const [key, split] of keys) {
        const values = h.epochs.map((e) => e.metrics[key]);
        if (values.every((v) => v === undefined)) continue;
        values.forEach((v, i) => {
          if (v !== undefined && Number.isFinite(v))
            rows.push({ epoch: i + 1, value: v, run: name, split });
        });
        const last = [...values].reverse().find((v) => v !== undefined && Number.isFinite(v));
        if (last !== undefined && key === keys[keys.length - 1][0])
          lasts.push(`${name} ${last.toFixed(4)}`);
      }
    }
    finals.push(`last ${keys[keys.length - 1][0]}: ${lasts.join(', ')}`);
    if (!rows.length)
      throw new Error(
        `compareHistories: no run has metric "${metric}"; use one of ${historyMetricNames(runs[names[0]]).join(', ')}.`,
      );
    const l = metricLabel(
      metric,
      opts.topK ?? names.map((n) => kOf(runs[n], metric)).find((k) => k !== undefined),
    );
    return panel({
      title: `${metric.startsWith('val_') ? 'Validation ' + l.toLowerCase() : l}`,
      yTitle: l.toLowerCase(),
      rows,
      colour: 'run',
      colourDomain: names,
      dash: keys.length > 1 ? 'split' : undefined,
      phases: [],
      epochs,
      y: axisOf(metric, opts.lossAxis),
      width: opts.width ?? (metrics.length > 1 ? 300 : 480),
      height: opts.height ?? 240,
    });
  });
  const title = opts.title ?? names.join(' vs ');
  // Last value per run of the metric's validation key (or the key itself), one line per metric.
  const subtitle = [...noteLines, ...finals, ...lossAxisNote(metrics, opts.lossAxis)];
  const spec = withDefaults({ title: { text: title, subtitle }, hconcat: panels });
  return renderChart(spec, [title, ...subtitle].join('\n'), opts);
}

/** Learning rate per epoch (log scale), with phase starts; shows ReduceLROnPlateau steps. */
export function plotLearningRate(
  history: History,
  opts: ShowOption & { title?: string; width?: number; height?: number } = {},
): Chart {
  checkHistory('plotLearningRate', history);
  const rows = history.epochs
    .map((e, i) => ({ epoch: i + 1, value: e.lr, split: 'learning rate' }))
    .filter((r) => Number.isFinite(r.value));
  if (!rows.length)
    throw new Error(
      'plotLearningRate: no epoch has a learning rate (EpochLog.lr); record it in the training loop.',
    );
  const logY = rows.every((r) => r.value > 0);
  const body = panel({
    title: '',
    yTitle: 'learning rate',
    rows,
    colour: 'split',
    phases: phaseMarks(history),
    epochs: history.epochs.length,
    width: opts.width ?? 480,
    height: opts.height ?? 200,
    y: logY ? 'log' : 'free',
    steps: true,
  });
  // The single series needs no legend; colour it like the training lines.
  const line = (body.layer as { encoding: Record<string, unknown> }[])[0];
  line.encoding.color = { value: SPLIT_COLOURS.range[0] };
  line.encoding.tooltip = [
    { field: 'epoch', type: 'quantitative' },
    { field: 'value', type: 'quantitative', format: '.2e' },
  ];
  const spec = withDefaults({
    ...body,
    title: {
      text: opts.title ?? 'Learning rate',
      subtitle: [
        ...notesLine(history),
        `from ${rows[0].value.toExponential(1)} to ${rows[rows.length - 1].value.toExponential(1)}`,
      ],
    },
  });
  const changes = rows
    .filter((r, i) => i > 0 && r.value !== rows[i - 1].value)
    .map((r) => `epoch ${r.epoch}: ${r.value.toExponential(1)}`);
  return renderChart(
    spec,
    `Learning rate: ${rows[0].value.toExponential(1)}${changes.length ? '; ' + changes.join(', ') : ' (constant)'}`,
    opts,
  );
}
