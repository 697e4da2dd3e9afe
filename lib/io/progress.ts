// Progress of a long step (a download, preparing a dataset): a line updated in place in a
// notebook, a cli-progress bar in a terminal, a line every 10% in logs, nothing when quiet.
import { SingleBar, Presets } from 'cli-progress';
import { isKernel, newDisplay } from '../display';

export interface Progress {
  /** Set the amount done (and the total, when it becomes known). */
  update(done: number, total?: number | null): void;
  /** Add `n` (default 1) to the amount done. */
  tick(n?: number): void;
  done(): void;
}

export interface ProgressOptions {
  /** Total amount, null when unknown (a download without Content-Length). */
  total: number | null;
  /** 'bytes' shows megabytes (downloads); 'items' shows counts (images). */
  unit?: 'bytes' | 'items';
  /** false: no output at all. */
  enabled?: boolean;
}

const MB = (n: number) => (n / 1e6).toFixed(1);

/** One progress reporter for every long step. */
export function progressReporter(label: string, opts: ProgressOptions): Progress {
  let total = opts.total;
  let value = 0;
  const bytes = opts.unit === 'bytes';
  const text = () => {
    if (!total) return bytes ? `${label}: ${MB(value)} MB` : `${label}: ${value}`;
    const pct = Math.floor((value / total) * 100);
    return bytes ? `${label}: ${pct}% (${MB(value)}/${MB(total)} MB)` : `${label}: ${value}/${total} (${pct}%)`;
  };
  // A step value that changes the output: percent in a notebook, tenths in a log.
  const stepOf = (per: number) => (total ? Math.floor((value / total) * per) : Math.floor(value / (bytes ? 1e6 * (100 / per) : 100)));
  let show: () => void;
  let finish: () => void = () => {};
  if (opts.enabled === false) {
    show = () => {};
  } else if (isKernel()) {
    const live = newDisplay();
    let last = -1;
    show = () => {
      const s = stepOf(100);
      if (s !== last) { last = s; live.text(text()); }
    };
  } else if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total}${bytes ? ' MB' : ''} | ETA {eta}s`, hideCursor: true }, Presets.shades_classic);
    let started = false;
    const scale = (n: number) => (bytes ? Number(MB(n)) : n);
    show = () => {
      if (!started) { bar.start(total ? scale(total) : 0, 0); started = true; }
      if (total) bar.setTotal(scale(total));
      bar.update(scale(value));
    };
    finish = () => { if (started) bar.stop(); };
  } else {
    let last = -1;
    show = () => {
      const s = stepOf(10);
      if (s !== last) { last = s; console.log(text()); }
    };
  }
  return {
    update(done, newTotal) {
      value = done;
      if (newTotal !== undefined) total = newTotal;
      show();
    },
    tick(n = 1) {
      value += n;
      show();
    },
    done: finish,
  };
}
