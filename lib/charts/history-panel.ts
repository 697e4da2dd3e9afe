// One panel of a learning-curve chart, as vega-lite layers: the curves, the phase markers (where
// fine-tuning starts) and the best epoch. plotHistory, plotPhases, compareHistories and
// plotLearningRate each compose panels from these.
import { MIN_FONT_SIZE } from './render';

/** Training blue, validation orange, in every chart. */
export const SPLIT_COLOURS = { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] };
const PHASE_COLOUR = '#d62728';
type Layer = Record<string, unknown>;

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
  logY?: boolean;
  /** Learning rates change between epochs: draw steps, not slopes. */
  steps?: boolean;
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
    title: 'epoch',
    scale: { domain: [1, Math.max(2, o.epochs)], nice: false },
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
  };
}

/** A dotted rule per phase start, its name beside it. */
function phaseLayers(o: PanelOptions): Layer[] {
  return [
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
  ];
}

/** The best epoch: a dashed rule, its label, and a diamond on each curve at that epoch. */
function bestEpochLayers(o: PanelOptions, best: NonNullable<PanelOptions['best']>): Layer[] {
  return [
    {
      data: { values: [{ epoch: best.epoch }] },
      mark: { type: 'rule', color: '#666', strokeDash: [5, 3] },
      encoding: { x: { field: 'epoch', type: 'quantitative' } },
    },
    // The label twice: a white outline first (a halo, so it stays legible over a curve), then the text.
    ...[{ stroke: 'white', strokeWidth: 3 }, {}].map((halo) => ({
      data: { values: [{ epoch: best.epoch, label: `best ${best.epoch}` }] },
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
