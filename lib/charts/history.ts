// Learning curves from a History (lib/train/types.ts): per-metric panels with training and
// validation side by side, the best epoch marked, and a dotted red line where each later phase
// (e.g. fine-tuning) starts. Epochs are drawn 1-based, like Keras' "Epoch 1/100" and the
// walkthroughs' "best epoch" prints.
import type { History } from '../train/types';
import { bestEpoch, heldBest, mergeHistories, monitorMode } from '../train/history';
import type { MimeBundle } from '../display';
import { metricLabel } from './format';
import {
  MIN_FONT_SIZE,
  chartBundle,
  renderChart,
  specToSvg,
  withDefaults,
  type Chart,
  type ShowOption,
  type VegaLiteSpec,
} from './render';

const SPLIT_COLOURS = { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] };
const PHASE_COLOUR = '#d62728';
const NOT_METRICS = new Set(['lr', 'learning_rate']);

export interface PlotHistoryOptions extends ShowOption {
  /** Metric base names to draw, one panel each (default: every metric, accuracy first, loss last). */
  metrics?: string[];
  title?: string;
  /** Metric that decides the best epoch (default val_loss, else loss); mode follows the name (loss: min). */
  monitor?: string;
  /** k of the top-k metric, only to label its panel "Top-3 accuracy" (Keras' key name has no k). */
  topK?: number;
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

interface PanelOptions {
  title: string;
  yTitle: string;
  rows: Record<string, unknown>[];
  /** Field that colours the lines; 'split' uses the training/validation palette. */
  colour: string;
  /** Order of the colour field's values (legend order); default: as they come. */
  colourDomain?: string[];
  dash?: string;
  phases: { x: number; name: string }[];
  best?: { epoch: number; points: { epoch: number; value: number }[] };
  epochs: number;
  width: number;
  height: number;
  logY?: boolean;
  /** Learning rates change between epochs: draw steps, not slopes. */
  steps?: boolean;
}

/** One layered panel: lines, phase lines, best-epoch line and points. */
function panel(o: PanelOptions): Record<string, unknown> {
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'epoch',
    scale: { domain: [1, Math.max(2, o.epochs)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const layers: Record<string, unknown>[] = [
    {
      data: { values: o.rows },
      // Points on short runs; not with dashes, whose legend must show line symbols.
      mark: {
        type: 'line',
        strokeWidth: 2,
        point: o.epochs <= 30 && !o.dash ? { size: 25 } : false,
        ...(o.steps ? { interpolate: 'step-after' } : {}),
      },
      encoding: {
        x,
        y: {
          field: 'value',
          type: 'quantitative',
          title: o.yTitle,
          scale: o.logY ? { type: 'log' } : { zero: false },
          ...(o.logY ? { axis: { format: '.0e', tickCount: 6 } } : {}),
        },
        color: {
          field: o.colour,
          type: 'nominal',
          title: null,
          ...(o.colour === 'split'
            ? { scale: SPLIT_COLOURS }
            : o.colourDomain
              ? { scale: { domain: o.colourDomain } }
              : {}),
          legend: { orient: 'bottom', direction: o.colour === 'split' ? 'horizontal' : 'vertical' },
        },
        ...(o.dash
          ? {
              strokeDash: {
                field: o.dash,
                type: 'nominal',
                title: null,
                scale: {
                  domain: ['training', 'validation'],
                  range: [
                    [1, 0],
                    [6, 3],
                  ],
                },
                legend: { orient: 'bottom', symbolStrokeColor: '#444' },
              },
            }
          : {}),
        tooltip: [
          { field: 'epoch', type: 'quantitative' },
          { field: 'value', type: 'quantitative', format: '.4f' },
          { field: o.colour, type: 'nominal' },
          ...(o.dash ? [{ field: o.dash, type: 'nominal' }] : []),
        ],
      },
    },
  ];
  if (o.phases.length) {
    layers.push(
      {
        data: { values: o.phases },
        mark: { type: 'rule', color: PHASE_COLOUR, strokeDash: [2, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      // The phase's name beside its line, on the left of it in the right part of the panel, so the
      // label never runs past the panel (that would widen the chart and shrink its fonts).
      ...(['left', 'right'] as const)
        .map((align) => ({
          align,
          values: o.phases.filter((p) => p.x > o.epochs * 0.6 === (align === 'right')),
        }))
        .filter((l) => l.values.length)
        .map((l) => ({
          data: { values: l.values },
          mark: {
            type: 'text',
            color: PHASE_COLOUR,
            align: l.align,
            baseline: 'top',
            dx: l.align === 'left' ? 3 : -3,
            fontSize: MIN_FONT_SIZE,
          },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { value: 3 },
            text: { field: 'name' },
          },
        })),
    );
  }
  if (o.best) {
    layers.push(
      {
        data: { values: [{ epoch: o.best.epoch }] },
        mark: { type: 'rule', color: '#666', strokeDash: [5, 3] },
        encoding: { x: { field: 'epoch', type: 'quantitative' } },
      },
      // The label twice: a white outline first (a halo, so it stays legible over a curve), then the text.
      ...[{ stroke: 'white', strokeWidth: 3 }, {}].map((halo) => ({
        data: { values: [{ epoch: o.best!.epoch, label: `best ${o.best!.epoch}` }] },
        mark: {
          type: 'text',
          color: '#444',
          align: 'right',
          baseline: 'bottom',
          dx: -3,
          dy: -3,
          fontSize: MIN_FONT_SIZE,
          ...halo,
        },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { value: o.height },
          text: { field: 'label' },
        },
      })),
    );
    if (o.best.points.length) {
      layers.push({
        data: { values: o.best.points },
        mark: { type: 'point', filled: true, size: 70, color: '#222', shape: 'diamond' },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative' },
        },
      });
    }
  }
  return { title: o.title, width: o.width, height: o.height, layer: layers };
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
  const panels = bases.map((base) => {
    const rows: Record<string, unknown>[] = [];
    const points: { epoch: number; value: number }[] = [];
    history.epochs.forEach((e, i) => {
      for (const [key, split] of [
        [base, 'training'],
        [`val_${base}`, 'validation'],
      ] as const) {
        const v = e.metrics[key];
        if (v === undefined || !Number.isFinite(v)) continue;
        rows.push({ epoch: i + 1, value: v, split });
        if (i === best) points.push({ epoch: i + 1, value: v });
      }
    });
    const label = metricLabel(base, opts.topK);
    return panel({
      title: label,
      yTitle: label.toLowerCase(),
      rows,
      colour: 'split',
      phases: phaseMarks(history),
      best: best >= 0 ? { epoch: best + 1, points } : undefined,
      epochs: n,
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
  ];
  return withDefaults({
    title: { text: title, subtitle },
    hconcat: panels,
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
        `${key.startsWith('val_') ? 'val ' : ''}${metricLabel(key, k).toLowerCase()} ${m[key].toFixed(4)}`,
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
  topK?: number;
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
    const l = metricLabel(metric, opts.topK);
    return panel({
      title: `${metric.startsWith('val_') ? 'Validation ' + l.toLowerCase() : l}`,
      yTitle: l.toLowerCase(),
      rows,
      colour: 'run',
      colourDomain: names,
      dash: keys.length > 1 ? 'split' : undefined,
      phases: [],
      epochs,
      width: opts.width ?? (metrics.length > 1 ? 300 : 480),
      height: opts.height ?? 240,
    });
  });
  const title = opts.title ?? names.join(' vs ');
  // Last value per run of the metric's validation key (or the key itself), one line per metric.
  const subtitle = [...noteLines, ...finals];
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
    logY,
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
