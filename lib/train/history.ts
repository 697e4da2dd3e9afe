// History helpers: merge two phases, find the best epoch, print the walkthroughs' summary lines.
import type { EpochLog, History } from './types';
import { monitorMode, type MonitorMode } from './monitor';
import { formatSeconds } from '../io/duration';

// Mode inference has one home, the monitor base; charts import it from here too.
export { monitorMode };

/**
 * One history from two phases (transfer learning then fine-tuning), for the combined chart. The
 * second phase's epochs are renumbered to continue after the first when they restarted at 0
 * (Keras: fit(..., initial_epoch=len(history))); its phase marks move by the first's length.
 */
export function mergeHistories(a: History, b: History): History {
  const offset = a.epochs.length;
  const lastA = offset ? a.epochs[offset - 1].epoch : -1;
  const firstB = b.epochs.length ? b.epochs[0].epoch : 0;
  const shift = firstB > lastA ? 0 : lastA + 1 - firstB;
  const bPhases = b.phases.length ? b.phases : [{ name: 'phase 2', startEpoch: 0 }];
  const aPhases = a.phases.length || !offset ? a.phases : [{ name: 'phase 1', startEpoch: 0 }];
  const notes = [
    ...(a.notes ?? []),
    ...(b.notes ?? []).filter((n) => !(a.notes ?? []).includes(n)),
  ];
  return {
    epochs: [
      ...a.epochs.map((e) => ({ ...e, metrics: { ...e.metrics } })),
      ...b.epochs.map((e) => ({ ...e, epoch: e.epoch + shift, metrics: { ...e.metrics } })),
    ],
    phases: [
      ...aPhases.map((p) => ({ ...p })),
      ...bPhases.map((p) => ({ ...p, startEpoch: p.startEpoch + offset })),
    ],
    ...(notes.length ? { notes } : {}),
    ...(a.metricK || b.metricK ? { metricK: { ...a.metricK, ...b.metricK } } : {}),
    // The model holds what the second phase left it with.
    ...(b.restoredEpoch !== undefined ? { restoredEpoch: b.restoredEpoch + shift } : {}),
  };
}

/** The epoch with the best value of `monitor` (default val_loss, lowest), or undefined. */
export function bestEpoch(
  h: History,
  monitor = 'val_loss',
  mode: MonitorMode = 'auto',
): EpochLog | undefined {
  const dir = monitorMode(monitor, mode);
  let best: EpochLog | undefined;
  for (const e of h.epochs) {
    const v = e.metrics[monitor];
    if (v === undefined || Number.isNaN(v)) continue;
    if (!best || (dir === 'min' ? v < best.metrics[monitor] : v > best.metrics[monitor])) best = e;
  }
  return best;
}

/** Keras-style number: 4 decimals, scientific for tiny values (2.1567e-05). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(4);
  return v.toFixed(4);
}

const SHORT: Record<string, string> = {
  accuracy: 'acc',
  top_k_categorical_accuracy: 'top3_acc',
};
function shortName(key: string, k?: number): string {
  const val = key.startsWith('val_');
  const base = val ? key.slice(4) : key;
  let short = SHORT[base] ?? base;
  if (base === 'top_k_categorical_accuracy' && k !== undefined) short = `top${k}_acc`;
  return (val ? 'val_' : '') + short;
}

/** The wall time of phase `i` of a history: its PhaseMark's seconds, else the sum of its epochs'. */
export function phaseSeconds(h: History, i: number): number {
  const mark = h.phases[i];
  if (mark?.seconds !== undefined) return mark.seconds;
  const end = h.phases[i + 1]?.startEpoch ?? h.epochs.length;
  return h.epochs.slice(mark?.startEpoch ?? 0, end).reduce((s, e) => s + e.seconds, 0);
}

/** How many epochs phase `i` of a history ran. */
function phaseEpochs(h: History, i: number): number {
  const end = h.phases[i + 1]?.startEpoch ?? h.epochs.length;
  return end - (h.phases[i]?.startEpoch ?? 0);
}

/**
 * A phase's one time line, the same number the progress line ends with and a results table shows:
 *   [Time] transfer learning: 7.79 s for 20 epochs (0.39 s per epoch)
 */
export function phaseTimeLine(name: string, seconds: number, epochs: number): string {
  const per = epochs ? ` (${formatSeconds(seconds / epochs)} per epoch)` : '';
  return `[Time] ${name}: ${formatSeconds(seconds)} for ${epochs} epoch${epochs === 1 ? '' : 's'}${per}`;
}

/**
 * The lines the walkthroughs print after fit(): one [Time] line per phase (and the total when there
 * are several), then the best epoch:
 *   [Time] transfer learning: 4 min 33 s for 100 epochs (2.73 s per epoch)
 *   [Best] Epoch 99 | val_loss=2.8012 | val_acc=0.5640 | val_top3_acc=0.7650
 */
export function historySummary(h: History, opts: { monitor?: string; topK?: number } = {}): string {
  const n = h.epochs.length;
  const phases = h.phases.length ? h.phases : [{ name: 'training', startEpoch: 0 }];
  const lines = phases.map((p, i) =>
    phaseTimeLine(p.name, phaseSeconds(h, i), h.phases.length ? phaseEpochs(h, i) : n),
  );
  if (phases.length > 1) lines.push(phaseTimeLine('total', historySeconds(h), n));
  const monitor = opts.monitor ?? 'val_loss';
  const restored = opts.monitor === undefined ? heldBest(h) : undefined;
  const best = restored ?? bestEpoch(h, monitor);
  if (best) {
    const keys = Object.keys(best.metrics).filter((k) => k.startsWith('val_'));
    keys.sort((x, y) => (x === monitor ? -1 : y === monitor ? 1 : 0));
    const parts = keys.map((k) => `${shortName(k, opts.topK)}=${formatValue(best.metrics[k])}`);
    if (restored) parts.push('weights restored by EarlyStopping');
    lines.push(`[Best] Epoch ${best.epoch + 1} | ${parts.join(' | ')}`);
  } else if (
    n > 0 &&
    h.epochs.every((e) => e.metrics[monitor] !== undefined && !Number.isFinite(e.metrics[monitor]))
  ) {
    // No best epoch to show: say why instead of leaving the line out.
    const lossToo = h.epochs.every((e) => !Number.isFinite(e.metrics.loss ?? NaN));
    lines.push(
      `[Best] none: ${monitor} was NaN in every epoch${lossToo && monitor !== 'loss' ? ' (and so was the training loss)' : ''}. ` +
        'Training diverged: lower the learning rate, check the labels and the preprocessing; TerminateOnNaN() stops such a run at the first bad batch.',
    );
  }
  return lines.join('\n');
}

/**
 * The epoch whose weights the model holds after training: the one EarlyStopping restored, else the
 * last. Its logged validation numbers are what evaluating the model on the validation set gives.
 */
export function heldEpoch(h: History): EpochLog | undefined {
  if (h.restoredEpoch !== undefined) return h.epochs.find((e) => e.epoch === h.restoredEpoch);
  return h.epochs[h.epochs.length - 1];
}

/** The epoch EarlyStopping restored, when it restored one (the "best" the model really holds). */
export function heldBest(h: History): EpochLog | undefined {
  return h.restoredEpoch === undefined ? undefined : heldEpoch(h);
}

/** The last value of every metric, as a flat object (for tables). */
export function lastMetrics(h: History): Record<string, number> {
  return h.epochs.length ? { ...h.epochs[h.epochs.length - 1].metrics } : {};
}

/**
 * The training time of a history in seconds: each phase's wall time as trainPhase measured it (the
 * number its [Time] line printed), summed over the phases of a merged history. Pass it to
 * resultsTable's `seconds` so the table shows what the summary said.
 */
export function historySeconds(h: History): number {
  if (!h.phases.length) return h.epochs.reduce((s, e) => s + e.seconds, 0);
  return h.phases.reduce((s, _p, i) => s + phaseSeconds(h, i), 0);
}
