// Progress of a long step (a download, preparing a dataset, evaluating, pretraining): a line updated
// in place in a notebook, a cli-progress bar in a terminal, a line every 10% in logs, nothing when quiet.
import { SingleBar, Presets } from 'cli-progress';
import { isKernel, newDisplay } from '../display';

export interface Progress {
  /** Set the amount done (and the total, when it becomes known). */
  update(done: number, total?: number | null): void;
  /** Add `n` (default 1) to the amount done. */
  tick(n?: number): void;
  /** Text shown after the counts from the next update on (a running loss, a learning rate). */
  note(text: string): void;
  /** The step is over; a summary replaces the line in a notebook and is printed elsewhere. */
  done(summary?: string): void;
}

export interface ProgressOptions {
  /** Total amount, null when unknown (a download without Content-Length). */
  total: number | null;
  /** 'bytes' shows megabytes (downloads); the others show counts, named after them ('items': no name). */
  unit?: 'bytes' | 'items' | 'images' | 'batches' | 'steps';
  /** false: no output at all. */
  enabled?: boolean;
}

const MB = (n: number) => (n / 1e6).toFixed(1);

/** One progress reporter for every long step. */
export function progressReporter(label: string, opts: ProgressOptions): Progress {
  let total = opts.total;
  let value = 0;
  let note = '';
  const bytes = opts.unit === 'bytes';
  const noun = opts.unit && opts.unit !== 'items' && !bytes ? ` ${opts.unit}` : '';
  const counts = () => {
    if (!total) return bytes ? `${MB(value)} MB` : `${value}${noun}`;
    const pct = Math.floor((value / total) * 100);
    return bytes ? `${pct}% (${MB(value)}/${MB(total)} MB)` : `${value}/${total}${noun} (${pct}%)`;
  };
  const text = () => `${label}: ${counts()}${note ? ` ${note}` : ''}`;
  // A step value that changes the output: percent in a notebook, tenths in a log.
  const stepOf = (per: number) =>
    total
      ? Math.floor((value / total) * per)
      : Math.floor(value / (bytes ? 1e6 * (100 / per) : 100));
  // Print the line only when that step value moves (not on every tick of a 50,000-image loop).
  const whenStepMoves = (per: number, print: (line: string) => void) => {
    let last = -1;
    return () => {
      const s = stepOf(per);
      if (s !== last) {
        last = s;
        print(text());
      }
    };
  };
  let show: () => void;
  let finish: (summary?: string) => void = (summary) => {
    if (summary) console.log(`${label}: ${summary}`);
  };
  if (opts.enabled === false) {
    show = () => {};
    finish = () => {};
  } else if (isKernel()) {
    const live = newDisplay();
    show = whenStepMoves(100, (line) => live.text(line));
    finish = (summary) => {
      if (summary) live.text(`${label}: ${summary}`);
    };
  } else if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total}${bytes ? ' MB' : noun} | ETA {eta}s {note}`,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let started = false;
    const scale = (n: number) => (bytes ? Number(MB(n)) : n);
    show = () => {
      if (!started) {
        bar.start(total ? scale(total) : 0, 0, { note });
        started = true;
      }
      if (total) bar.setTotal(scale(total));
      bar.update(scale(value), { note });
    };
    finish = (summary) => {
      if (started) bar.stop();
      if (summary) console.log(`${label}: ${summary}`);
    };
  } else {
    show = whenStepMoves(10, (line) => console.log(line));
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
    note(text) {
      note = text;
    },
    done: finish,
  };
}
