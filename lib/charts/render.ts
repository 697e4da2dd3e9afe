// vega-lite spec -> SVG in Node (vega@5 / vega-lite@5 ship CommonJS, which tslab can load), and
// the display bundle every chart sends: vega-lite JSON for JupyterLab / VS Code, SVG for the classic
// Notebook and nbconvert HTML exports, and a short text/plain summary for terminals and logs.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { describeAs, kb, showBundle, type MimeBundle } from '../display';

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

/**
 * Charts are drawn at most this wide (CSS px), so an HTML report shows them at 1:1 and no text
 * is scaled below MIN_FONT_SIZE (a 1000 px report column holds the chart; print fits 190 mm).
 */
export const REPORT_WIDTH = 900;
/** The smallest font of any chart text (axis labels, marks' labels), in px at REPORT_WIDTH. */
export const MIN_FONT_SIZE = 11;

/**
 * Split text into lines of at most `maxChars` characters, at spaces. Vega in Node measures text
 * without a canvas (about 0.8 × font size per character), so one long title line would widen the
 * whole SVG and the report would scale every font down with it.
 */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const TITLE_SIZE = 15;
const SUBTITLE_SIZE = 12;
/** Characters per line that fit REPORT_WIDTH at vega's width estimate. */
const charsPerLine = (fontSize: number) => Math.floor(REPORT_WIDTH / (0.8 * fontSize)) - 4;

function wrapTitle(title: unknown): unknown {
  if (!title) return title;
  const t =
    typeof title === 'string'
      ? { text: title }
      : (title as { text: string | string[]; subtitle?: string | string[] });
  const wrap = (v: string | string[] | undefined, size: number) =>
    v === undefined ? undefined : [v].flat().flatMap((line) => wrapText(line, charsPerLine(size)));
  return {
    ...t,
    text: wrap(t.text, TITLE_SIZE),
    ...(t.subtitle !== undefined ? { subtitle: wrap(t.subtitle, SUBTITLE_SIZE) } : {}),
  };
}

/** Add the schema and a common look (font, sizes, white background) to a spec; wrap long titles. */
export function withDefaults(spec: Record<string, unknown>): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    background: 'white',
    config: {
      font: FONT,
      title: {
        fontSize: TITLE_SIZE,
        subtitleFontSize: SUBTITLE_SIZE,
        subtitleColor: '#555',
        anchor: 'start',
      },
      axis: { labelFontSize: MIN_FONT_SIZE, titleFontSize: 12 },
      legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: REPORT_WIDTH - 100 },
      text: { fontSize: MIN_FONT_SIZE },
    },
    ...spec,
    ...(spec.title ? { title: wrapTitle(spec.title) } : {}),
  } as VegaLiteSpec;
}

/**
 * Compile with vega-lite and render to an SVG string with vega's headless SVG renderer,
 * synchronously: our specs carry their data inline, so vega's dataflow evaluates without waiting
 * on anything, and the result equals `await view.toSVG()` (checked in test/charts/render.test.ts).
 * Being synchronous lets a training loop redraw a live chart after each epoch.
 */
export function specToSvg(spec: VegaLiteSpec): string {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    view.run();
    // These are the fields vega's own renderHeadless reads (vega-view's width/height/offset).
    const internals = view as unknown as {
      _pulse: unknown;
      _pending: unknown;
      _viewWidth: number;
      _viewHeight: number;
      _origin: [number, number];
    };
    if (internals._pulse || internals._pending) {
      throw new Error(
        'specToSvg: the chart needs asynchronous data (a URL?); pass data inline as { values: [...] }.',
      );
    }
    const p = view.padding() as
      number | { top?: number; bottom?: number; left?: number; right?: number };
    const pad =
      typeof p === 'number'
        ? { top: p, bottom: p, left: p, right: p }
        : { top: p.top ?? 0, bottom: p.bottom ?? 0, left: p.left ?? 0, right: p.right ?? 0 };
    // renderModule(name) is vega's getter (the typings only declare the setter form).
    const getModule = vega.renderModule as unknown as (name: string) => {
      headless: new (loader: unknown) => SvgStringRenderer;
    };
    const Renderer = getModule('svg').headless;
    const renderer = new Renderer(view.loader())
      .initialize(
        null,
        Math.max(0, internals._viewWidth + pad.left + pad.right),
        Math.max(0, internals._viewHeight + pad.top + pad.bottom),
        [pad.left + internals._origin[0], pad.top + internals._origin[1]],
        1,
      )
      .background(view.background());
    renderer.render((view.scenegraph() as unknown as { root: unknown }).root);
    return renderer.svg();
  } finally {
    view.finalize();
  }
}

interface SvgStringRenderer {
  initialize(
    el: null,
    width: number,
    height: number,
    origin: [number, number],
    scaleFactor: number,
  ): SvgStringRenderer;
  background(color: unknown): SvgStringRenderer;
  render(scene: unknown): SvgStringRenderer;
  svg(): string;
}

/** The mime bundle of a chart. */
export function chartBundle(chart: Chart): MimeBundle {
  return {
    'application/vnd.vegalite.v5+json': chart.spec,
    'image/svg+xml': chart.svg,
    'text/plain': chart.text,
  };
}

/**
 * How a chart prints as a cell's value: nothing in a kernel once it was shown (the chart is the
 * output), else its fields, not the whole SVG.
 */
export function describeChart<T extends Chart>(chart: T, extra = '', shown = false): T {
  return describeAs(
    chart,
    (c) => `[chart: .spec (vega-lite), .svg (${kb(c.svg)}), .text${extra}]`,
    { shown },
  );
}

/** Render, display (unless show: false) and return a chart. */
export function renderChart(spec: VegaLiteSpec, text: string, opts: ShowOption = {}): Chart {
  const chart = describeChart({ spec, svg: specToSvg(spec), text }, '', opts.show !== false);
  if (opts.show !== false) showBundle(chartBundle(chart));
  return chart;
}
