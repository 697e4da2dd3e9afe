// Run a notebook headless on the project kernel and export it (HTML, optionally PDF).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KERNEL_NAME, ROOT, jupyterEnv } from './jupyter';

export interface RunSummary {
  notebook: string;
  ok: boolean;
  /** 1-based number of the code cell that failed (the In [n] of the report). */
  cell?: number | null;
  ename?: string;
  evalue?: string;
  error?: string;
  cells: number;
  seconds: number;
  metrics: Record<string, unknown>;
  executed: string;
  html?: string;
  pdf?: string;
}

export interface RunOptions {
  python: string;
  outDir?: string;
  profile?: 'quick' | 'full';
  pdf?: boolean;
  html?: boolean;
  /** Extra environment for the kernel (data folders, backend). */
  env?: NodeJS.ProcessEnv;
  /** Seconds a single cell may run. */
  cellTimeout?: number;
  /** Streams the runner's stderr (kernel logs) through, for interactive use. */
  verbose?: boolean;
}

export async function executeNotebook(notebook: string, opts: RunOptions): Promise<RunSummary> {
  const nbPath = path.resolve(notebook);
  if (!fs.existsSync(nbPath)) throw new Error(`Notebook not found: ${nbPath}. List them with \`ls notebooks/\`.`);
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, 'reports'));
  fs.mkdirSync(outDir, { recursive: true });
  const stem = path.basename(nbPath, '.ipynb');
  const executed = path.join(outDir, `${stem}.ipynb`);
  const html = opts.html === false ? undefined : path.join(outDir, `${stem}.html`);
  const args = [path.join(__dirname, 'nbexec.py'), nbPath, executed, '--kernel', KERNEL_NAME, '--timeout', String(opts.cellTimeout ?? 3600)];
  if (html) args.push('--html', html);
  // JPY_SESSION_NAME: the kernel's notebook, as Jupyter servers tell it (runDir() derives from it).
  const env = jupyterEnv({
    NB_PROFILE: opts.profile ?? process.env.NB_PROFILE ?? 'quick', JPY_SESSION_NAME: path.relative(ROOT, nbPath), ...opts.env,
  });
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(opts.python, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (opts.verbose) process.stderr.write(d);
    });
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  let parsed: Omit<RunSummary, 'notebook' | 'executed'>;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(`Running ${nbPath} failed before it produced a summary (exit ${code}):\n${stderr.slice(-4000)}`);
  }
  const summary: RunSummary = { notebook: nbPath, executed, html, ...parsed };
  if (opts.pdf && html) summary.pdf = htmlToPdf(html);
  return summary;
}

/** Chromium prints the HTML report to PDF (Debian's `chromium` package). */
export function htmlToPdf(html: string): string {
  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('which', [c]).status === 0);
  if (!chromium) throw new Error('PDF export needs headless Chromium: `sudo apt-get install -y chromium` (Debian) or `chromium-browser` (Ubuntu).');
  const pdf = html.replace(/\.html$/, '.pdf');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-chromium-'));
  const r = spawnSync(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--no-pdf-header-footer', `--user-data-dir=${profile}`,
    `--print-to-pdf=${pdf}`, `file://${html}`,
  ], { encoding: 'utf8', timeout: 120_000 });
  fs.rmSync(profile, { recursive: true, force: true });
  if (r.status !== 0 || !fs.existsSync(pdf)) throw new Error(`Chromium could not print ${html} to PDF: ${r.stderr?.slice(-1000)}`);
  return pdf;
}

/** One line per notebook for the console. */
export function formatSummary(s: RunSummary): string {
  const name = path.basename(s.notebook);
  const metrics = Object.entries(s.metrics ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(1)) : String(v)}`)
    .join(' ');
  if (s.ok) return `OK    ${name}  ${s.seconds.toFixed(1)} s  ${metrics}\n      -> ${s.html ?? s.executed}`;
  return `FAIL  ${name}  ${s.seconds.toFixed(1)} s  cell In [${s.cell ?? '?'}]: ${s.ename ? `${s.ename}: ${s.evalue}` : s.error ?? 'unknown error'}\n      -> ${s.html ?? s.executed}`;
}
