// One panel of a learning-curve chart, as vega-lite layers: the curves, the phase markers (where
// fine-tuning starts) and the best epoch. plotHistory, plotPhases, compareHistories and
// plotLearningRate each compose panels from these.
//
// Honest axes: an accuracy axis always spans [0, 1] and a loss axis starts at 0, so a change of
// 0.02 looks like 0.02 and not like the whole height of the panel (auto-scaled axes made a 0.5 → 0.7
// climb look like 0 → 1). Labels ("best 5", phase names) sit in a band above the plot, where no
// curve can run through them.
import { MIN_FONT_SIZE } from './render';

/** Training blue, validation orange, in every chart. */
export const SPLIT_COLOURS = { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] };
const PHASE_COLOUR = '#d62728';
type Layer = Record<string, unknown>;

/**
 * What the y axis of a panel shows, which fixes its range: 'accuracy' (any accuracy, top-k
 * included) spans [0, 1]; 'loss' starts at 0 ('loss-fit' zooms to the values: the chart's subtitle
 * must say so); 'log' is a log scale (learning rates); 'free' fits the values (other metrics).
 */
export type YAxis = 'accuracy' | 'loss' | 'loss-fit' | 'log' | 'free';

/** The y-axis rule for a metric key or base name (val_ prefix ignored). */
export function yAxisFor(metric: string): YAxis {
  const b = metric.replace(/^val_/, '');
  if (/acc|auc/.test(b)) return 'accuracy';
  if (b === 'loss' || /_loss$|crossentropy/.test(b)) return 'loss';
  return 'free';
}

/** The vega-lite y scale of an axis kind. */
export function yScale(axis: YAxis): Record<string, unknown> {
  switch (axis) {
    case 'accuracy':
      return { domain: [0, 1], nice: false };
    case 'loss':
      return { zero: true };
    case 'log':
      return { type: 'log' };
    default:
      return { zero: false };
  }
}

/** Vertical positions (px above the plot) of the two label rows in the band over each panel. */
const BEST_LABEL_Y = -4;
const PHASE_LABEL_Y = -4 - MIN_FONT_SIZE - 4;

export interface PanelOptions {
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
  /** The y axis' range rule (default 'free'). */
  y?: YAxis;
  /** The x range [first, last] epoch (default [1, epochs]): the zoomed view of the last phase. */
  xDomain?: [number, number];
  /** Learning rates change between epochs: draw steps, not slopes. */
  steps?: boolean;
  /** The x axis' title (default 'epoch'). */
  xTitle?: string;
}

/** The x range a panel draws. */
function xDomain(o: PanelOptions): [number, number] {
  return o.xDomain ?? [1, Math.max(2, o.epochs)];
}

/** Where a position lies across the panel, 0 (left) to 1 (right). */
function across(o: PanelOptions, x: number): number {
  const [a, b] = xDomain(o);
  return (x - a) / (b - a || 1);
}

/** One layered panel: lines, phase lines, best-epoch line and points. */
export function panel(o: PanelOptions): Record<string, unknown> {
  const layers: Layer[] = [curveLayer(o)];
  if (o.phases.length) layers.push(...phaseLayers(o));
  if (o.best) layers.push(...bestEpochLayers(o, o.best));
  return { title: o.title, width: o.width, height: o.height, layer: layers };
}

/** The curves: one line per colour (and dash) value, points on short runs. */
function curveLayer(o: PanelOptions): Layer {
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: o.xTitle ?? 'epoch',
    scale: { domain: xDomain(o), nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  return {
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
        scale: yScale(o.y ?? 'free'),
        ...(o.y === 'log' ? { axis: { format: '.0e', tickCount: 6 } } : {}),
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
  };
}

/** A dotted rule per phase start, its name in the upper label row of the band above the plot. */
function phaseLayers(o: PanelOptions): Layer[] {
  return [
    {
      data: { values: o.phases },
      mark: { type: 'rule', color: PHASE_COLOUR, strokeDash: [2, 3], strokeWidth: 1.5 },
      encoding: { x: { field: 'x', type: 'quantitative' } },
    },
    // The name on the side of its line with more room (left of a line in the right part of the
    // panel), so it never runs past the panel: that would widen the chart and shrink its fonts.
    ...bandText(o, o.phases, PHASE_LABEL_Y, { color: PHASE_COLOUR }, 0.6),
  ];
}

/**
 * Text in the band above the plot, one mark per alignment: a label left of `split` (as a fraction
 * of the panel's width) reads rightwards from its x, one right of it leftwards.
 */
function bandText(
  o: PanelOptions,
  values: { x: number; name: string }[],
  y: number,
  style: Record<string, unknown>,
  split: number,
): Layer[] {
  return (['left', 'right'] as const)
    .map((align) => ({
      align,
      values: values.filter((v) => across(o, v.x) > split === (align === 'right')),
    }))
    .filter((l) => l.values.length)
    .map((l) => ({
      data: { values: l.values },
      mark: {
        type: 'text',
        align: l.align,
        baseline: 'bottom',
        dx: l.align === 'left' ? 3 : -3,
        fontSize: MIN_FONT_SIZE,
        ...style,
      },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { value: y },
        text: { field: 'name' },
      },
    }));
}

/**
 * The best epoch: a dashed rule, "best N" in the lower label row above the plot (never over a
 * curve: over the plot it hid the lines near it), and a diamond on each curve at that epoch.
 */
function bestEpochLayers(o: PanelOptions, best: NonNullable<PanelOptions['best']>): Layer[] {
  return [
    {
      data: { values: [{ epoch: best.epoch }] },
      mark: { type: 'rule', color: '#666', strokeDash: [5, 3] },
      encoding: { x: { field: 'epoch', type: 'quantitative' } },
    },
    ...bandText(
      o,
      [{ x: best.epoch, name: `best ${best.epoch}` }],
      BEST_LABEL_Y,
      { color: '#444' },
      0.5,
    ),
    ...(best.points.length
      ? [
          {
            data: { values: best.points },
            mark: { type: 'point', filled: true, size: 70, color: '#222', shape: 'diamond' },
            encoding: {
              x: { field: 'epoch', type: 'quantitative' },
              y: { field: 'value', type: 'quantitative' },
            },
          },
        ]
      : []),
  ];
}
