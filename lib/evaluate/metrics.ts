// Plain-number metrics on predictions: no tensors, so they are exact and easy to test by hand.
//
// Tie rules (documented because they decide borderline cases):
// - `argMax` returns the FIRST index of the maximum, like tf.argMax / numpy.argmax, so Keras'
//   'accuracy' (categorical_accuracy = argmax(y_true) == argmax(y_pred)) is matched exactly.
// - `inTopK` follows tf.math.in_top_k, which Keras' TopKCategoricalAccuracy uses: the target is in
//   the top k when fewer than k classes have a STRICTLY larger score. Classes that tie with the
//   target and straddle the k boundary all count as "in the top k". A non-finite target score is
//   never in the top k. (So with all-equal scores every target is in the top 1 for in_top_k, while
//   argmax accuracy only credits class 0.)

/** Scores (probabilities or logits) for n examples: one row per example, or a flat row-major array. */
export type ScoreRows = ArrayLike<number>[] | { data: ArrayLike<number>; numClasses: number };

function rowsOf(scores: ScoreRows): {
  n: number;
  numClasses: number;
  row: (i: number) => ArrayLike<number>;
} {
  if (Array.isArray(scores)) {
    const numClasses = scores.length ? scores[0].length : 0;
    return { n: scores.length, numClasses, row: (i) => scores[i] };
  }
  const { data, numClasses } = scores as { data: ArrayLike<number>; numClasses: number };
  if (!(numClasses > 0) || data.length % numClasses !== 0) {
    throw new Error(
      `scores: data has ${data.length} values, not a multiple of numClasses=${numClasses}; pass { data, numClasses } with data.length = examples × classes.`,
    );
  }
  const n = data.length / numClasses;
  const sub = (i: number) =>
    ArrayBuffer.isView(data)
      ? (data as unknown as Float32Array).subarray(i * numClasses, (i + 1) * numClasses)
      : Array.prototype.slice.call(data, i * numClasses, (i + 1) * numClasses);
  return { n, numClasses, row: sub };
}

function checkLengths(what: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length)
    throw new Error(
      `${what}: ${a.length} true labels but ${b.length} predictions; pass one prediction per example.`,
    );
}

/** Index of the largest value (first one on ties, like tf.argMax). -1 for an empty row. */
export function argMax(row: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let j = 0; j < row.length; j++) {
    if (row[j] > bestValue || best === -1) {
      best = j;
      bestValue = row[j];
    }
  }
  return best;
}

/** The k best classes of one row, best first (lower index first among equal scores). */
export function topKIndices(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, j) => j);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, Math.min(k, row.length));
}

/** tf.math.in_top_k for one example: fewer than k classes score strictly higher than the target. */
export function inTopK(row: ArrayLike<number>, target: number, k: number): boolean {
  if (!Number.isInteger(target) || target < 0 || target >= row.length) return false;
  const t = row[target];
  if (!Number.isFinite(t)) return false;
  let higher = 0;
  for (let j = 0; j < row.length; j++) if (row[j] > t) higher++;
  return higher < k;
}

/** Fraction of examples whose true label is in the top k scores (Keras/TF tie rule, see file header). */
export function topKAccuracy(yTrue: ArrayLike<number>, scores: ScoreRows, k = 5): number {
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`topKAccuracy: k=${k} must be an integer >= 1.`);
  const { n, row } = rowsOf(scores);
  checkLengths('topKAccuracy', yTrue, { length: n });
  if (n === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < n; i++) if (inTopK(row(i), yTrue[i], k)) hits++;
  return hits / n;
}

/** Fraction of exact matches between integer labels and integer predictions. */
export function accuracyScore(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths('accuracyScore', yTrue, yPred);
  if (yTrue.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** Argmax of each row (first index on ties). */
export function argMaxRows(scores: ScoreRows): number[] {
  const { n, row } = rowsOf(scores);
  return Array.from({ length: n }, (_, i) => argMax(row(i)));
}

/**
 * Confusion matrix C with C[t][p] = number of examples of true class t predicted as p
 * (rows: true class, columns: predicted class, as in sklearn).
 */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  checkLengths('confusionMatrix', yTrue, yPred);
  if (!(Number.isInteger(numClasses) && numClasses > 0))
    throw new Error(
      `confusionMatrix: numClasses=${numClasses} must be a positive integer (e.g. dataset.classNames.length).`,
    );
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    for (const [name, v] of [
      ['label', t],
      ['prediction', p],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new Error(
          `confusionMatrix: ${name} ${v} at position ${i} is outside 0..${numClasses - 1}; numClasses must cover every class index.`,
        );
      }
    }
    cm[t][p]++;
  }
  return cm;
}

/**
 * Mean categorical cross-entropy of probability rows, computed like Keras (from_logits=False):
 * each row is renormalised to sum 1, clipped to [1e-7, 1 - 1e-7], and the one-hot target is
 * smoothed to (1 - s) * onehot + s / numClasses when labelSmoothing s > 0.
 */
export function categoricalCrossentropy(
  yTrue: ArrayLike<number>,
  probabilities: ScoreRows,
  labelSmoothing = 0,
): number {
  const { n, numClasses, row } = rowsOf(probabilities);
  checkLengths('categoricalCrossentropy', yTrue, { length: n });
  if (n === 0) return NaN;
  const eps = 1e-7;
  const off = labelSmoothing / numClasses;
  const on = 1 - labelSmoothing + off;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = row(i);
    let sum = 0;
    for (let j = 0; j < numClasses; j++) sum += r[j];
    let loss = 0;
    for (let j = 0; j < numClasses; j++) {
      const target = j === yTrue[i] ? on : off;
      if (target === 0) continue;
      const p = Math.min(Math.max(r[j] / sum, eps), 1 - eps);
      loss -= target * Math.log(p);
    }
    total += loss;
  }
  return total / n;
}
