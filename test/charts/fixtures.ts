// Synthetic histories shaped like the walkthroughs' curves (deterministic, no training needed).
import type { History } from '../../lib/train/types';

/** A smooth learning curve: training improves faster than validation; lr halves every `halveEvery` epochs. */
export function syntheticHistory(opts: {
  epochs: number;
  start?: number;
  level?: number;
  lr?: number;
  halveEvery?: number;
  name?: string;
  topK?: boolean;
  notes?: string[];
}): History {
  const { epochs, start = 0, level = 0.55, lr = 1e-3, halveEvery = 0, topK = true } = opts;
  const wobble = (i: number) => 0.01 * Math.sin(i * 1.7);
  return {
    epochs: Array.from({ length: epochs }, (_, i) => {
      const t = start + i + 1;
      const acc = Math.min(0.99, level + 0.4 * (1 - Math.exp(-t / 8)));
      const valAcc = level * (1 - Math.exp(-t / 6)) + wobble(t);
      const metrics: Record<string, number> = {
        loss: 4.5 * Math.exp(-t / 10) + 0.4,
        accuracy: acc,
        val_loss: 4.2 * Math.exp(-t / 9) + 1.2 + 0.002 * Math.max(0, t - 30) ** 1.5,
        val_accuracy: valAcc,
      };
      if (topK) {
        metrics.top_k_categorical_accuracy = Math.min(0.999, acc + 0.15);
        metrics.val_top_k_categorical_accuracy = Math.min(0.999, valAcc + 0.2);
      }
      return {
        epoch: i,
        lr: halveEvery ? lr / 2 ** Math.floor(i / halveEvery) : lr,
        seconds: 1.5,
        metrics,
      };
    }),
    phases: [{ name: opts.name ?? 'training', startEpoch: 0 }],
    ...(opts.notes ? { notes: opts.notes } : {}),
  };
}
