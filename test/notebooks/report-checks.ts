// Checks an executed notebook and its HTML/PDF report must pass (issue 12): each returns the
// problems it finds, as sentences naming the cell or the reference, so an assertion can print them.
import { spawnSync } from 'node:child_process';

export type Output = {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
};
export type Cell = { cell_type: string; source: string | string[]; outputs?: Output[] };
export type Notebook = { cells: Cell[] };

const textOf = (o: Output) => [o.text ?? ''].flat().join('');
const codeCells = (nb: Notebook) => nb.cells.filter((c) => c.cell_type === 'code');

/**
 * Text printed after a displayed output (chart, table, text) in the same cell that only describes it, like
 * `[chart: .spec (vega-lite), .svg (51.3 kB), .text]`: a cell must show the chart and nothing else.
 */
export function placeholdersAfterRichOutputs(nb: Notebook): string[] {
  const problems: string[] = [];
  codeCells(nb).forEach((cell, i) => {
    let shown = false;
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'display_data' || o.output_type === 'execute_result') shown = true;
      else if (shown && o.output_type === 'stream' && o.name === 'stdout') {
        // A returned value's one-line description ("[chart: .spec …]") or a bare newline.
        const text = textOf(o);
        const placeholder = text
          .split('\n')
          .find((l) => /^\s*\[[^\]]*(\.\w|: )[^\]]*\]\s*$/.test(l));
        if (placeholder !== undefined)
          problems.push(`code cell ${i + 1}: "${placeholder.trim()}" printed after a rich output`);
        else if (/^\s*$/.test(text))
          problems.push(`code cell ${i + 1}: an empty stdout output after a rich output`);
      }
    }
  });
  return problems;
}

/** tfjs prints this banner through console.warn the first time its cpu backend makes a tensor. */
export const TFJS_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

/** Cells whose stderr shows tfjs' Node.js banner. */
export function stderrBanners(nb: Notebook): string[] {
  return codeCells(nb).flatMap((cell, i) =>
    (cell.outputs ?? []).some(
      (o) => o.output_type === 'stream' && o.name === 'stderr' && TFJS_BANNER.test(textOf(o)),
    )
      ? [
          `code cell ${i + 1}: tfjs' "Hi, looks like you are running TensorFlow.js in Node.js" banner on stderr`,
        ]
      : [],
  );
}

/** The widest code line a notebook may have (the HTML report and print show 100 columns). */
export const MAX_CODE_COLUMNS = 100;

/**
 * Code lines over 100 columns (they scroll sideways in HTML and are cut in print), by code cell
 * (the "In [n]" of the report) and line, both 1-based. Columns are characters, not UTF-16 units.
 */
export function longLines(nb: Notebook, max = MAX_CODE_COLUMNS): string[] {
  return codeCells(nb).flatMap((cell, i) =>
    [cell.source]
      .flat()
      .join('')
      .split('\n')
      .flatMap((text, j) => {
        const length = [...text].length;
        return length > max
          ? [`code cell ${i + 1}, line ${j + 1}: ${length} columns: ${text.slice(0, 60)}…`]
          : [];
      }),
  );
}

/**
 * Everything an HTML report would load or link from the machine that made it, or from the network:
 * src/href attributes and CSS url()s that are not data: URIs or in-page anchors. Links to web pages
 * (<a href="https://…">) are fine: they are navigation, not part of the page.
 */
export function externalReferences(html: string): string[] {
  const refs: string[] = [];
  const local = (u: string) => !/^(data:|#|about:blank$)/i.test(u.trim());
  for (const m of html.matchAll(/<(\w+)\b[^>]*?\s(src|href)\s*=\s*("([^"]*)"|'([^']*)')/gi)) {
    const [tag, attr, url] = [m[1].toLowerCase(), m[2].toLowerCase(), m[4] ?? m[5] ?? ''];
    // A link is navigation, not a load: the web, or a sibling report (index.html, NN-name.html).
    const navigation =
      tag === 'a' && attr === 'href' && /^(https?:|mailto:|[\w.-]+\.html(#.*)?$)/i.test(url);
    if (local(url) && !navigation) refs.push(`<${tag} ${attr}="${url}">`);
  }
  for (const m of html.matchAll(/url\(\s*(['"]?)([^'")]*)\1\s*\)/gi))
    if (local(m[2])) refs.push(`url(${m[2]})`);
  for (const m of html.matchAll(/@import\s+(['"])([^'"]+)\1/gi)) refs.push(`@import ${m[2]}`);
  return refs;
}

/** A PDF's text with its layout (poppler's pdftotext), or null when pdftotext is not installed. */
export function pdfText(pdf: string): string | null {
  const r = spawnSync('pdftotext', ['-layout', pdf, '-'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`pdftotext ${pdf} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * What a printed classification report lacks: class rows ("name  0.95  0.90  0.92  12") not found,
 * and the accuracy / macro avg / weighted avg lines.
 */
export function missingReportRows(text: string, classNames: string[]): string[] {
  const num = String.raw`\d+\.\d+`;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = (name: string) =>
    new RegExp(String.raw`^\s*${escape(name)}\s+${num}\s+${num}\s+${num}\s+\d+\s*$`, 'm');
  const missing = classNames.filter((c) => !row(c).test(text)).map((c) => `row "${c}"`);
  if (!new RegExp(String.raw`^\s*accuracy\s+${num}\s+\d+\s*$`, 'm').test(text))
    missing.push('row "accuracy"');
  for (const avg of ['macro avg', 'weighted avg'])
    if (!row(avg).test(text)) missing.push(`row "${avg}"`);
  return missing;
}
