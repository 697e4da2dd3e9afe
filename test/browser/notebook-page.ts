// The classic Notebook page driven as a user drives it, for test/browser/notebooks.test.ts: the
// project's `npm run notebook` server, headless Chromium through puppeteer-core, and the page's own
// menu items (Cell › Run All, Kernel › Interrupt, File › Save) clicked. What a test reads back is
// what the page shows: prompts, output areas, the trust indicator, the kernel indicator.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { jupyterEnv, ROOT } from '../../scripts/platform/jupyter';

/** Debian's chromium (CHROMIUM_PATH overrides); null when there is none. */
export function findChromium(): string | null {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ].filter((x): x is string => !!x);
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

export interface Server {
  base: string;
  token: string;
  child: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** `npm run notebook` (scripts/notebook-server.ts) on a free port; resolves once it prints its URL. */
export async function startServer(env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const port = 19000 + Math.floor(Math.random() * 1000);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'notebook-server.ts')],
    {
      cwd: ROOT,
      env: jupyterEnv({ NB_PORT: String(port), ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  let token = '';
  for (let i = 0; i < 200 && !token; i++) {
    await sleep(300);
    token = /http:\/\/127\.0\.0\.1:\d+\/\?token=([0-9a-f]+)/.exec(log)?.[1] ?? '';
  }
  if (!token) {
    child.kill('SIGINT');
    throw new Error(`npm run notebook printed no URL:\n${log}`);
  }
  return {
    base: `http://127.0.0.1:${port}`,
    token,
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One output as the page holds it (the notebook's JSON form). */
export interface PageOutput {
  output_type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
}
export interface PageCell {
  index: number;
  id: string;
  type: string;
  source: string;
  prompt: number | string | null;
  outputs: PageOutput[];
  /** <svg> and <img> elements shown (laid out with a size) in the cell's output area. */
  visibleCharts: number;
}

/** Text of an output: a stream's text, or the text/plain of a display. */
export function outputText(o: PageOutput): string {
  if (typeof o.text === 'string') return o.text;
  const t = o.data?.['text/plain'];
  return typeof t === 'string' ? t : Array.isArray(t) ? t.join('') : '';
}

/** Error output a user sees: stderr streams (tslab prints errors there) and error outputs. */
export function errorOutputs(cells: PageCell[]): string[] {
  return cells.flatMap((c) =>
    c.outputs
      .filter(
        (o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'),
      )
      .map((o) => `cell ${c.index} (${c.id}): ${outputText(o).slice(0, 2000)}`),
  );
}

/* The page's globals, as far as these helpers use them (Notebook 6.4's static/notebook/js). */
interface NotebookCell {
  cell_type: string;
  element: { hasClass(c: string): boolean; 0: HTMLElement };
  get_text(): string;
  set_text(s: string): void;
  input_prompt_number?: number | string | null;
  output_area?: { outputs: PageOutput[] };
  id?: string;
  execute(): void;
}
interface JupyterGlobal {
  notebook: {
    _fully_loaded: boolean;
    get_cells(): NotebookCell[];
    get_cell(i: number): NotebookCell;
    insert_cell_at_bottom(type: string): NotebookCell;
    find_cell_index(c: NotebookCell): number;
    select(i: number): void;
    scroll_to_cell(i: number): void;
    kernel: { id: string; is_connected(): boolean } | null;
    dirty: boolean;
  };
}
type Win = Window & { Jupyter: JupyterGlobal };

export class NotebookPage {
  constructor(
    readonly page: Page,
    readonly server: Server,
    readonly nbPath: string,
  ) {}

  static async open(browser: Browser, server: Server, nbPath: string): Promise<NotebookPage> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const p = new NotebookPage(page, server, nbPath);
    await p.load();
    return p;
  }

  /** (Re)load the page and wait until the notebook is loaded and its kernel connected. */
  async load(): Promise<void> {
    const url = `${this.server.base}/notebooks/${this.nbPath}?token=${this.server.token}`;
    if (this.page.url() === url) await this.page.reload({ waitUntil: 'load' });
    else await this.page.goto(url, { waitUntil: 'load' });
    await this.page.waitForFunction(
      () => {
        const J = (window as unknown as Win).Jupyter;
        return !!J?.notebook?._fully_loaded && !!J.notebook.kernel?.is_connected();
      },
      { timeout: 120_000 },
    );
    await this.waitIdle(120_000);
  }

  /** Click a menu item by its element id (e.g. run_all_cells, int_kernel, save_checkpoint). */
  async menu(id: string): Promise<void> {
    await this.page.evaluate((id) => {
      const a = document.querySelector<HTMLAnchorElement>(`#${id} > a`);
      if (!a) throw new Error(`no menu item #${id}`);
      a.click();
    }, id);
  }

  /** The kernel indicator says idle (the kernel finished what it was asked). */
  async kernelIdle(): Promise<boolean> {
    return this.page.evaluate(
      () => !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'),
    );
  }

  /**
   * Wait until no code cell is queued or running and the kernel is idle. Polled from here, one short
   * call at a time: a page-side waitForFunction is one protocol call, cut off after 180 s.
   */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idle = await this.page.evaluate(
        () =>
          document.querySelectorAll('.code_cell.running').length === 0 &&
          !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'),
      );
      if (idle) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.nbPath}: still running after ${timeoutMs / 1000} s`);
      }
      await sleep(250);
    }
  }

  async cells(): Promise<PageCell[]> {
    return this.page.evaluate(() => {
      const J = (window as unknown as Win).Jupyter;
      return J.notebook.get_cells().map((c, index) => {
        const el = c.element[0];
        const charts = Array.from(el.querySelectorAll('.output_area svg, .output_area img')).filter(
          (e) => {
            if (e.closest('svg') !== e && e.tagName.toLowerCase() === 'svg') return false; // nested
            const r = e.getBoundingClientRect();
            return r.width > 20 && r.height > 20 && getComputedStyle(e).visibility !== 'hidden';
          },
        );
        return {
          index,
          id: c.id ?? '',
          type: c.cell_type,
          source: c.get_text(),
          prompt: c.input_prompt_number ?? null,
          outputs: c.output_area ? JSON.parse(JSON.stringify(c.output_area.outputs)) : [],
          visibleCharts: charts.length,
        };
      });
    });
  }

  /** Index of the first cell whose source matches. */
  async findCell(re: RegExp): Promise<number> {
    const i = (await this.cells()).findIndex((c) => c.type === 'code' && re.test(c.source));
    if (i < 0) throw new Error(`${this.nbPath}: no code cell matches ${re}`);
    return i;
  }

  async setCellText(index: number, text: string): Promise<void> {
    await this.page.evaluate(
      (i, t) => (window as unknown as Win).Jupyter.notebook.get_cell(i).set_text(t),
      index,
      text,
    );
  }

  /** Select a cell and run it (Cell › Run Cells); does not wait. */
  async runCell(index: number): Promise<void> {
    await this.page.evaluate((i) => {
      const nb = (window as unknown as Win).Jupyter.notebook;
      nb.select(i);
      nb.scroll_to_cell(i);
    }, index);
    await this.menu('run_cell');
  }

  /** Run one cell and wait until the kernel is idle again; returns the cell as shown. */
  async run(index: number, timeoutMs = 120_000): Promise<PageCell> {
    await this.runCell(index);
    await sleep(300);
    await this.waitIdle(timeoutMs);
    return (await this.cells())[index];
  }

  /** Insert a code cell at the bottom with `source` (Insert › Cell Below on the last cell). */
  async addCell(source: string): Promise<number> {
    return this.page.evaluate((src) => {
      const nb = (window as unknown as Win).Jupyter.notebook;
      const cell = nb.insert_cell_at_bottom('code');
      cell.set_text(src);
      return nb.find_cell_index(cell);
    }, source);
  }

  /** File › Save and Checkpoint; waits until the page says it saved. */
  async save(): Promise<void> {
    await this.menu('save_checkpoint');
    await this.page.waitForFunction(() => !(window as unknown as Win).Jupyter.notebook.dirty, {
      timeout: 30_000,
    });
  }

  /** The trust indicator's text ("Trusted" / "Not Trusted"). */
  async trust(): Promise<string> {
    return this.page.$eval('#notification_trusted', (e) => (e.textContent ?? '').trim());
  }

  async kernelId(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as Win).Jupyter.notebook.kernel!.id);
  }
}

/** pid of the tslab process that runs kernel `kernelId`. */
export function kernelPid(kernelId: string): number {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  const line = ps
    .split('\n')
    .find((l) => l.includes('tslab') && l.includes(`kernel-${kernelId}.json`));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}
