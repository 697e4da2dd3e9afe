// Backend cells: which tfjs backend runs the notebook, and why.
import {
  initBackend as startBackend,
  startedBackend,
  type BackendInfo,
  type BackendName,
} from './choose';
import { onednnInfo } from './onednn';
import { describeAs, isKernel, showBundle } from '../display';
import { escapeHtml as esc } from '../io/html';

export {
  chooseBackend,
  defaultCandidates,
  silenceNodeBackendBanner,
  BACKEND_ORDER,
} from './choose';
export type {
  BackendName,
  BackendInfo,
  BackendCandidate,
  BackendChoice,
  LoadResult,
} from './choose';

export interface BackendInfoOptions {
  /** Display the result (default true). */
  show?: boolean;
  /** 'line' (default): one short line, fit for the end of a notebook; 'table': every detail, including why other backends were skipped. */
  format?: 'line' | 'table';
}

/** Threads the backend computes with, as far as it reports them. */
function threadsOf(info: BackendInfo): number | undefined {
  if (info.wasm) return info.wasm.threads;
  if (info.backend === 'onednn') return onednnInfo().threads;
  return undefined;
}

/** "Backend: onednn (oneDNN 2.6, 2 threads) · tfjs 4.22.0 · Node v20.20.2" */
export function backendLine(info: BackendInfo): string {
  const threads = threadsOf(info);
  const native = info.backend === 'onednn' ? onednnInfo().version : undefined;
  const details = [
    native ? `oneDNN ${native}` : info.detail,
    info.wasm ? `SIMD ${info.wasm.simd ? 'on' : 'off'}` : undefined,
    threads ? `${threads} thread${threads === 1 ? '' : 's'}` : undefined,
  ].filter(Boolean);
  return `Backend: ${info.backend}${details.length ? ` (${details.join(', ')})` : ''} · tfjs ${info.tfjsVersion} · Node ${process.version}`;
}

/**
 * Set by the kernel's preload (scripts/platform/tslab-preload.cjs) when the first cell importing
 * the library starts, before tslab compiles it: the time a user waited for the first cell.
 */
const FIRST_CELL_MARK = Symbol.for('tfjs-finetune-notebooks.firstCellStartedAt');

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Start the fastest backend here once per process (later calls return the same info; every lib
 * function that needs tfjs calls it too, so forgetting it only costs speed). In a kernel the call
 * that starts it shows the backend line and the time taken, under the "starting the backend…" line
 * the kernel printed when the cell began (the first cell also compiles the library).
 */
export async function initBackend(opts: { backend?: BackendName } = {}): Promise<BackendInfo> {
  const fresh = startedBackend() === null;
  const t0 = Date.now();
  const info = await startBackend(opts);
  if (fresh && isKernel()) {
    const now = Date.now();
    const marks = globalThis as unknown as Record<symbol, number | undefined>;
    const cellStart = marks[FIRST_CELL_MARK];
    marks[FIRST_CELL_MARK] = undefined;
    const took =
      cellStart !== undefined && cellStart <= t0
        ? `ready in ${seconds(now - cellStart)} (library compiled and loaded in ${seconds(t0 - cellStart)}, backend started in ${seconds(now - t0)})`
        : `started in ${seconds(now - t0)}`;
    const line = `${backendLine(info)} · ${took}`;
    showBundle({
      'text/html': `<p style="color:#555;font-size:smaller">${esc(line)}</p>`,
      'text/plain': line,
    });
  }
  return info;
}

/**
 * Start the backend (if not yet) and show what runs the notebook: one short line by default
 * (put it at the end of a notebook, with the environment), or `{ format: 'table' }` for why.
 */
export async function backendInfo(opts: BackendInfoOptions = {}): Promise<BackendInfo> {
  const info = await startBackend();
  const shown = opts.show !== false;
  if (shown && opts.format === 'table') {
    const rows: [string, string][] = [
      ['backend', info.backend],
      ['why', info.why],
      ['tfjs', info.tfjsVersion],
      ['node', process.version],
    ];
    if (info.detail) rows.push(['detail', info.detail]);
    const threads = threadsOf(info);
    if (threads) rows.push(['threads', String(threads)]);
    if (info.wasm) rows.push(['wasm', `SIMD ${info.wasm.simd ? 'on' : 'off'}`]);
    for (const s of info.skipped) rows.push([`skipped ${s.name}`, s.reason]);
    showBundle({
      'text/html': `<table>${rows.map(([k, v]) => `<tr><th style="text-align:left">${esc(k)}</th><td style="text-align:left">${esc(v)}</td></tr>`).join('')}</table>`,
      'text/plain': rows.map(([k, v]) => `${k}: ${v}`).join('\n'),
    });
  } else if (shown) {
    const line = backendLine(info);
    showBundle({
      'text/html': `<p style="color:#555;font-size:smaller">${esc(line)}</p>`,
      'text/plain': line,
    });
  }
  return describeAs(
    { ...info },
    (i) => `[backend ${i.backend}; .backend, .why, .skipped, .tfjsVersion]`,
    { shown },
  );
}
