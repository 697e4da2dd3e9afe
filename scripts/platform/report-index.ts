// reports/index.html: the executed notebooks' reports in one page, each with its headline numbers,
// its code-hidden version and the provenance of the run that wrote the index.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeHtml } from '../../lib/io/html';
import { noCodePath, provenance, type RunSummary } from './execute';

const fmt = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v);

/** The notebook's first Markdown heading (its title), or its file name. */
function titleOf(executed: string): string {
  try {
    const nb = JSON.parse(fs.readFileSync(executed, 'utf8')) as {
      cells: { cell_type: string; source: string | string[] }[];
    };
    for (const c of nb.cells) {
      if (c.cell_type !== 'markdown') continue;
      const m = /^#\s+(.+)$/m.exec([c.source].flat().join(''));
      if (m) return m[1].trim();
    }
  } catch {
    /* a notebook that failed before it was written: its file name below */
  }
  return path.basename(executed, '.ipynb');
}

/** Write `<outDir>/index.html` for these runs; returns its path. */
export function writeReportIndex(
  summaries: RunSummary[],
  outDir: string,
  opts: { profile?: 'quick' | 'full'; seconds?: number } = {},
): string {
  const p = provenance(opts);
  const rows = summaries.map((s) => {
    const html = s.html ? path.basename(s.html) : '';
    const noCode =
      s.html && fs.existsSync(noCodePath(s.html)) ? path.basename(noCodePath(s.html)) : '';
    const metrics = Object.entries(s.metrics ?? {})
      .filter(([k]) => k !== 'backend' && k !== 'seed')
      .map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(fmt(v))}`)
      .join('<br>');
    const links = [
      html && `<a href="${escapeHtml(html)}">report</a>`,
      noCode && `<a href="${escapeHtml(noCode)}">without code</a>`,
    ]
      .filter(Boolean)
      .join(' · ');
    return (
      `<tr><td><strong>${escapeHtml(titleOf(s.executed))}</strong><br>${links}</td>` +
      `<td>${s.ok ? 'OK' : `failed in cell In [${escapeHtml(String(s.cell ?? '?'))}]`}</td>` +
      `<td style="text-align:right">${s.seconds.toFixed(0)} s</td><td>${metrics}</td></tr>`
    );
  });
  const facts: [string, unknown][] = [
    ['date', p.date],
    ['git commit', p.commit],
    ['command', p.command],
    ['profile', p.profile],
    ['CPU', p.cpu],
    ['total runtime', opts.seconds !== undefined ? `${opts.seconds.toFixed(0)} s` : ''],
  ];
  const page = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fine-tuning notebooks: reports (profile ${escapeHtml(String(p.profile))})</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ddd; padding: 6px 10px; vertical-align: top; text-align: left; }
.prov th { border: none; padding: 1px 1em 1px 0; } .prov td { border: none; padding: 1px 0; }
</style></head><body>
<h1>Fine-tuning notebooks: reports</h1>
<table class="prov">${facts
    .filter(([, v]) => v)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join('')}</table>
<h2>Notebooks</h2>
<table><thead><tr><th>notebook</th><th>status</th><th>time</th><th>headline numbers</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>
`;
  const file = path.join(outDir, 'index.html');
  fs.writeFileSync(file, page);
  return file;
}
