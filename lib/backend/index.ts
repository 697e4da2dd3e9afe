// Backend cells: which tfjs backend runs the notebook, and why.
import { initBackend, type BackendInfo } from './choose';
import { describeAs, showBundle } from '../display';

export { initBackend, chooseBackend, defaultCandidates, BACKEND_ORDER } from './choose';
export type { BackendName, BackendInfo, BackendCandidate, BackendChoice, LoadResult } from './choose';

/** Start the backend (if not yet) and show what was chosen and why, as a small table. */
export async function backendInfo(opts: { show?: boolean } = {}): Promise<BackendInfo> {
  const info = await initBackend();
  if (opts.show !== false) {
    const rows: [string, string][] = [
      ['backend', info.backend],
      ['why', info.why],
      ['tfjs', info.tfjsVersion],
    ];
    if (info.detail) rows.push(['detail', info.detail]);
    if (info.wasm) rows.push(['wasm', `SIMD ${info.wasm.simd ? 'on' : 'off'}, ${info.wasm.threads} thread(s)`]);
    for (const s of info.skipped) rows.push([`skipped ${s.name}`, s.reason]);
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    showBundle({
      'text/html': `<table>${rows.map(([k, v]) => `<tr><th style="text-align:left">${esc(k)}</th><td style="text-align:left">${esc(v)}</td></tr>`).join('')}</table>`,
      'text/plain': rows.map(([k, v]) => `${k}: ${v}`).join('\n'),
    });
  }
  return describeAs({ ...info }, (i) => `[backend ${i.backend}; .backend, .why, .skipped, .tfjsVersion]`);
}
