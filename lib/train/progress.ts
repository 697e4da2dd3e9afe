// Progress display for a training phase.
//  - In a notebook: ONE line per phase, updated in place (epoch, batch, bar, ETA, metrics), and an
//    optional live learning curve below it, redrawn after every epoch.
//  - In a terminal: a Keras-like progress bar per epoch, rewritten in place, kept when the epoch ends.
//  - In a log file / CI (stdout not a TTY): one line per epoch.
// Keras' training progress bar, with its metrics and kept epoch lines; one long step without epochs
// (a download, evaluateWithPredictions, lrFind) reports through lib/io/progress instead.
import { isKernel, newDisplay, type LiveDisplay, type MimeBundle } from '../display';
import type { History, Logs } from './types';
import { formatValue } from './history';
import { escapeHtml } from '../io/html';
import { formatSeconds } from '../io/duration';

export interface ProgressOptions {
  phase: string;
  epochs: number;
  initialEpoch: number;
  steps: number;
  /** Keras verbose: 0 silent, 1 progress bar, 2 one line per epoch. */
  verbose: number;
  /** Live learning curve (e.g. from lib/charts), redrawn in place after each epoch in a notebook. */
  onEpochChart?: (h: History) => MimeBundle;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function bar(done: number, total: number, width = 20): string {
  const filled = total ? Math.min(width, Math.floor((done / total) * width)) : width;
  return (
    '[' +
    '='.repeat(Math.max(0, filled - (done < total ? 1 : 0))) +
    (done < total ? '>' : '') +
    '.'.repeat(width - filled) +
    ']'
  );
}

export function formatLogs(logs: Logs, skip: string[] = []): string {
  return Object.entries(logs)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}: ${formatValue(v)}`)
    .join(' - ');
}

export class PhaseProgress {
  private readonly kernel = isKernel();
  private readonly tty = !this.kernel && Boolean(process.stdout.isTTY);
  private line: LiveDisplay | null = null;
  private chart: LiveDisplay | null = null;
  private lastDraw = 0;
  private epochStart = 0;
  private lineOpen = false; // a terminal line without its newline yet
  private lastEpochText = '';

  constructor(private readonly o: ProgressOptions) {
    if (o.verbose > 0 && (this.kernel || this.tty)) this.line = newDisplay();
    if (o.onEpochChart && this.kernel && o.verbose > 0) this.chart = newDisplay();
  }

  private prefix(epoch: number): string {
    return `${this.o.phase} · Epoch ${epoch + 1}/${this.o.epochs}`;
  }

  private draw(text: string): void {
    if (!this.line) return;
    if (this.kernel)
      this.line.update({
        'text/plain': text,
        'text/html': `<pre style="margin:0">${escapeHtml(text)}</pre>`,
      });
    else {
      this.line.text(text);
      this.lineOpen = true;
    }
  }

  epochBegin(epoch: number): void {
    this.epochStart = Date.now();
    this.lastDraw = 0;
    if (this.o.verbose === 1)
      this.draw(
        `${this.prefix(epoch)} · ${bar(0, this.o.steps)} 0/${this.o.steps}${this.lastEpochText}`,
      );
  }

  /** After each batch; redraws at most 5 times a second. */
  batch(epoch: number, batch: number, logs: Logs): void {
    if (this.o.verbose !== 1 || !this.line) return;
    const now = Date.now();
    const done = batch + 1;
    if (done < this.o.steps && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const eta = (elapsed / done) * (this.o.steps - done);
    this.draw(
      `${this.prefix(epoch)} · ${bar(done, this.o.steps)} ${done}/${this.o.steps} · ETA ${clock(eta)} · ${formatLogs(logs)}${this.lastEpochText}`,
    );
  }

  epochEnd(epoch: number, logs: Logs, seconds: number, history: History): void {
    if (this.o.verbose === 0) return;
    const perStep = this.o.steps ? (seconds * 1000) / this.o.steps : 0;
    // This epoch's time, labelled as the epoch's: the phase's total is drawn once, when it ends.
    const text = `${this.prefix(epoch)} · ${this.o.steps}/${this.o.steps} · epoch ${formatSeconds(seconds)}, ${perStep.toFixed(0)} ms/step · ${formatLogs(logs, ['lr'])} - lr: ${Number(logs.lr.toPrecision(6))}`;
    if (this.kernel) {
      // The notebook line keeps the last finished epoch visible while the next one runs.
      this.lastEpochText = `\n  last: epoch ${epoch + 1} · ${formatLogs(logs, ['lr'])} · lr ${Number(logs.lr.toPrecision(6))}`;
      this.draw(
        `${this.prefix(epoch)} · epoch took ${formatSeconds(seconds)}${this.lastEpochText}`,
      );
      if (this.chart && this.o.onEpochChart) {
        try {
          this.chart.update(this.o.onEpochChart(history));
        } catch (e) {
          this.message(`live chart failed: ${(e as Error).message}`);
        }
      }
    } else if (this.tty) {
      this.draw(text);
      process.stdout.write('\n');
      this.lineOpen = false;
    } else process.stdout.write(text + '\n');
  }

  /** A message from a callback, on its own line. */
  message(text: string): void {
    if (this.lineOpen) {
      process.stdout.write('\n');
      this.lineOpen = false;
    }
    console.log(text);
  }

  /**
   * At the phase's end: in a notebook the live line ends with the phase's time (the number of the
   * [Time] summary line and of History's phase mark); a terminal gets it from the summary line.
   */
  close(phaseSeconds?: number, epochs?: number, finished = true): void {
    if (this.kernel && this.o.verbose > 0 && finished && phaseSeconds !== undefined)
      this.draw(
        `${this.o.phase} · ${epochs} epoch${epochs === 1 ? '' : 's'} in ${formatSeconds(phaseSeconds)}${this.lastEpochText}`,
      );
    if (this.lineOpen) process.stdout.write('\n');
    this.lineOpen = false;
  }
}
