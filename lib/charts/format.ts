// Small formatting helpers shared by tables, reports and chart titles (HTML escaping: lib/io/html.ts).

/** 0.5734 -> "57.34%" (digits after the point). */
export function formatPercent(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? '' : `${(v * 100).toFixed(digits)}%`;
}

/** Signed difference in percentage points: +0.93 pp. */
export function formatPoints(v: number, digits = 2): string {
  const s = (v * 100).toFixed(digits);
  return `${v >= 0 ? '+' : ''}${s} pp`;
}

// Durations are written by lib/io/duration, so a table's time reads as the training summary's.
export { formatSeconds } from '../io/duration';

/** Metric key -> readable label: "val_top_k_categorical_accuracy" -> "Top-k accuracy" (k when given). */
export function metricLabel(base: string, k?: number): string {
  const b = base.replace(/^val_/, '');
  if (b === 'loss') return 'Loss';
  if (
    b === 'accuracy' ||
    b === 'acc' ||
    b === 'categorical_accuracy' ||
    b === 'sparse_categorical_accuracy'
  )
    return 'Accuracy';
  const top = /^(sparse_)?top_?(k|\d+)(_categorical)?_acc(uracy)?$/.exec(b);
  if (top) return `Top-${top[2] === 'k' ? (k ?? 'k') : top[2]} accuracy`;
  const words = b.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
