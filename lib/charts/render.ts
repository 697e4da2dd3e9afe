// vega-lite spec -> SVG in Node (vega@5 / vega-lite@5 ship CommonJS, which tslab can load), and
// the display bundle every chart sends: vega-lite JSON for JupyterLab / VS Code, SVG for the classic
// Notebook and nbconvert HTML exports, and a short text/plain summary for terminals and logs.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { showBundle, type MimeBundle } from '../display';
import { describeAs, kb } from './inspect';

export type VegaLiteSpec = TopLevelSpec;

/** What every chart function returns. */
export interface Chart {
  spec: VegaLiteSpec;
  svg: string;
  /** One-paragraph summary (the text/plain part of the bundle). */
  text: string;
}

export interface ShowOption {
  /** Display the result (in a kernel: rich output; elsewhere: the text summary). Default true. */
  show?: boolean;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Fonts that exist on the machines rendering (DejaVu Sans on Debian) and in browsers. */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Add the schema and a common look (font, white background) to a spec. */
export function withDefaults(spec: Record<string, unknown>): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    background: 'white',
    config: {
      font: FONT,
      title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start' },
      axis: { labelFontSize: 10, titleFontSize: 11 },
      legend: { labelFontSize: 11, titleFontSize: 11 },
    },
    ...spec,
  } as VegaLiteSpec;
}

/** Compile with vega-lite and render headlessly with vega (no canvas needed). */
export async function specToSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The mime bundle of a chart. */
export function chartBundle(chart: Chart): MimeBundle {
  return {
    'application/vnd.vegalite.v5+json': chart.spec,
    'image/svg+xml': chart.svg,
    'text/plain': chart.text,
  };
}

/** How a chart prints as a cell's value: its fields, not the whole SVG. */
export function describeChart<T extends Chart>(chart: T, extra = ''): T {
  return describeAs(chart, (c) => `[chart: .spec (vega-lite), .svg (${kb(c.svg)}), .text${extra}]`);
}

/** Render, display (unless show: false) and return a chart. */
export async function renderChart(spec: VegaLiteSpec, text: string, opts: ShowOption = {}): Promise<Chart> {
  const chart = describeChart({ spec, svg: await specToSvg(spec), text });
  if (opts.show !== false) showBundle(chartBundle(chart));
  return chart;
}
