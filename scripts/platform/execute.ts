// Run a notebook headless on the project kernel and export it (HTML, optionally PDF).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
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
  /** True when an executed notebook was only exported (nothing ran). */
  exportOnly?: boolean;
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
  /** Also write `<name>.nocode.html`: the report without the code cells (outputs and text only). */
  noCode?: boolean;
}

/** The code-hidden report beside `<name>.html`. */
export const noCodePath = (html: string) => html.replace(/\.html$/, '.nocode.html');

function git(args: string[]): string {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/**
 * What a report says about how it was made (its front matter): date, commit (with "+ local
 * changes" when the tree differs from it), the command, profile, CPU, and the folders whose
 * paths the report shows relative (project, home); `reports` links the notebooks to each other.
 */
export function provenance(opts: Pick<RunOptions, 'profile'>): Record<string, unknown> {
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = commit && git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const cpus = os.cpus();
  const script = process.env.npm_lifecycle_event;
  const args = process.argv.slice(2).join(' ');
  const notebooks = fs.existsSync(path.join(ROOT, 'notebooks'))
    ? fs
        .readdirSync(path.join(ROOT, 'notebooks'))
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
    : [];
  return {
    date: new Date()
      .toISOString()
      .replace(/\.\d+Z$/, ' UTC')
      .replace('T', ' '),
    commit: commit ? `${commit}${dirty ? ' + local changes' : ''}` : 'not a git checkout',
    command: script
      ? `npm ${script === 'start' ? 'start' : `run ${script}`}${args ? ` -- ${args}` : ''}`
      : `${path.basename(process.argv[1] ?? 'node')} ${args}`,
    profile: opts.profile ?? process.env.NB_PROFILE ?? 'quick',
    cpu: cpus.length ? `${cpus[0].model.trim()} (${cpus.length} cores)` : os.arch(),
    root: ROOT,
    home: os.homedir(),
    reports: notebooks.map((f) => ({
      title: f.replace(/\.ipynb$/, ''),
      html: f.replace(/\.ipynb$/, '.html'),
    })),
  };
}

export async function executeNotebook(notebook: string, opts: RunOptions): Promise<RunSummary> {
  const nbPath = path.resolve(notebook);
  if (!fs.existsSync(nbPath))
    throw new Error(`Notebook not found: ${nbPath}. List them with \`ls notebooks/\`.`);
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, 'reports'));
  fs.mkdirSync(outDir, { recursive: true });
  const stem = path.basename(nbPath, '.ipynb');
  const executed = path.join(outDir, `${stem}.ipynb`);
  const html = opts.html === false ? undefined : path.join(outDir, `${stem}.html`);
  const args = [
    path.join(__dirname, 'nbexec.py'),
    nbPath,
    executed,
    '--kernel',
    KERNEL_NAME,
    '--timeout',
    String(opts.cellTimeout ?? 3600),
  ];
  if (html) args.push('--html', html, '--provenance', JSON.stringify(provenance(opts)));
  if (html && opts.noCode) args.push('--no-code-html', noCodePath(html));
  // JPY_SESSION_NAME: the kernel's notebook, as Jupyter servers tell it (runDir() derives from it).
  const env = jupyterEnv({
    NB_PROFILE: opts.profile ?? process.env.NB_PROFILE ?? 'quick',
    JPY_SESSION_NAME: path.relative(ROOT, nbPath),
    ...opts.env,
  });
  return runNbexec(nbPath, executed, html, args, env, opts);
}

/** True when a notebook file holds outputs (it was executed), e.g. reports/<name>.ipynb. */
export function isExecuted(notebook: string): boolean {
  const nb = JSON.parse(fs.readFileSync(notebook, 'utf8')) as {
    cells: { cell_type: string; outputs?: unknown[] }[];
  };
  return nb.cells.some((c) => c.cell_type === 'code' && (c.outputs ?? []).length > 0);
}

/**
 * Export an already executed notebook (e.g. reports/<name>.ipynb) to HTML, and PDF when asked,
 * without starting a kernel: seconds instead of re-running every cell.
 */
export async function exportNotebook(
  executed: string,
  opts: Pick<RunOptions, 'python' | 'outDir' | 'pdf' | 'verbose' | 'noCode' | 'profile'>,
): Promise<RunSummary> {
  const nbPath = path.resolve(executed);
  if (!fs.existsSync(nbPath))
    throw new Error(
      `Executed notebook not found: ${nbPath}. Run it first: npm run report -- notebooks/${path.basename(nbPath)}`,
    );
  const outDir = path.resolve(opts.outDir ?? path.dirname(nbPath));
  fs.mkdirSync(outDir, { recursive: true });
  const html = path.join(outDir, `${path.basename(nbPath, '.ipynb')}.html`);
  const args = [path.join(__dirname, 'nbexec.py'), '--export-only', nbPath, '--html', html];
  args.push('--provenance', JSON.stringify(provenance(opts)));
  if (opts.noCode) args.push('--no-code-html', noCodePath(html));
  return runNbexec(nbPath, nbPath, html, args, jupyterEnv({}), opts);
}

async function runNbexec(
  nbPath: string,
  executed: string,
  html: string | undefined,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: Pick<RunOptions, 'python' | 'pdf' | 'verbose'>,
): Promise<RunSummary> {
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
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
    throw new Error(
      `Running ${nbPath} failed before it produced a summary (exit ${code}):\n${stderr.slice(-4000)}`,
    );
  }
  const summary: RunSummary = { notebook: nbPath, executed, html, ...parsed };
  if (opts.pdf && html) summary.pdf = htmlToPdf(html);
  return summary;
}

/** The headless Chromium on PATH (Debian's `chromium`, Ubuntu's `chromium-browser`), or null. */
export function findChromium(): string | null {
  return (
    ['chromium', 'chromium-browser', 'google-chrome'].find(
      (c) => spawnSync('which', [c]).status === 0,
    ) ?? null
  );
}

/** Chromium prints the HTML report to PDF, with the report's print rules (A4, tables whole). */
export function htmlToPdf(html: string): string {
  const chromium = findChromium();
  if (!chromium)
    throw new Error(
      'PDF export needs headless Chromium: `sudo apt-get install -y chromium` (Debian) or `chromium-browser` (Ubuntu).',
    );
  const pdf = html.replace(/\.html$/, '.pdf');
  // Printed next to the target and renamed when complete, so a killed run leaves no half PDF.
  const partial = `${pdf}.${process.pid}.partial`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-chromium-'));
  const r = spawnSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--no-pdf-header-footer',
      '--print-to-pdf-no-header',
      `--user-data-dir=${profile}`,
      `--print-to-pdf=${partial}`,
      pathToFileURL(path.resolve(html)).href,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  fs.rmSync(profile, { recursive: true, force: true });
  if (r.status !== 0 || !fs.existsSync(partial) || fs.statSync(partial).size === 0) {
    fs.rmSync(partial, { force: true });
    throw new Error(`Chromium could not print ${html} to PDF: ${r.stderr?.slice(-1000)}`);
  }
  fs.renameSync(partial, pdf);
  return pdf;
}

/** Headline entries that describe the run rather than measure it (the report's front matter shows them). */
const DESCRIPTIVE = new Set(['weights', 'data', 'seed']);

/** One line per notebook for the console. */
export function formatSummary(s: RunSummary): string {
  const name = path.basename(s.notebook);
  const metrics = Object.entries(s.metrics ?? {})
    .filter(([k]) => !DESCRIPTIVE.has(k))
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(1)) : String(v)}`,
    )
    .join(' ');
  if (s.ok)
    return `OK    ${name}  ${s.exportOnly ? 'exported (not run)' : `${s.seconds.toFixed(1)} s`}  ${metrics}\n      -> ${s.html ?? s.executed}`;
  return `FAIL  ${name}  ${s.seconds.toFixed(1)} s  cell In [${s.cell ?? '?'}]: ${s.ename ? `${s.ename}: ${s.evalue}` : (s.error ?? 'unknown error')}\n      -> ${s.html ?? s.executed}`;
}
