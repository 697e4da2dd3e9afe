// Backend cells: which tfjs backend runs the notebook, and why.
import { initBackend, type BackendInfo } from './choose';
import { onednnInfo } from './onednn';
import { describeAs, showBundle } from '../display';
import { escapeHtml as esc } from '../io/html';

export {
  initBackend,
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
 * Start the backend (if not yet) and show what runs the notebook: one short line by default
 * (put it at the end of a notebook, with the environment), or `{ format: 'table' }` for why.
 */
export async function backendInfo(opts: BackendInfoOptions = {}): Promise<BackendInfo> {
  const info = await initBackend();
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
