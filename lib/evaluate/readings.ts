// Readings: the sentences a notebook says about *this run's* outcome, computed from the run.
//
// The walkthroughs' prose describes their own full runs ("the curves show overfitting", "fine-tuning
// gains a point"); a quick run on generated data can show the opposite. So a notebook's markdown
// states the method and what the walkthrough reported, and every sentence about what this run did
// comes from one of these functions, which read the History or the evaluation and say only what the
// numbers support — with the uncertainty that this many validation images leave.
import { describeAs, showMarkdown } from '../display';
import type { EpochLog, History } from '../train/types';
import { formatValue } from '../train/history';

/** What a reading returns: the sentences (Markdown), a one-word verdict tests can check, the numbers behind it. */
export interface Reading {
  verdict: string;
  sentences: string[];
  /** The sentences as one Markdown paragraph. */
  text: string;
  facts: Record<string, number | string | boolean | undefined>;
}

interface ShowOption {
  /** Display the sentences in the notebook (default true). */
  show?: boolean;
}

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;
const num = formatValue; // Keras' 4 decimals, as the log prints them

/** A Reading from its verdict, sentences and facts, shown unless `show: false` (every reading is made here). */
export function reading(
  verdict: string,
  sentences: string[],
  facts: Reading['facts'],
  opts: ShowOption,
): Reading {
  const r = { verdict, sentences, text: sentences.join(' '), facts };
  const shown = opts.show !== false;
  if (shown) showMarkdown(r.text);
  // As a cell's last value: nothing more under the shown sentences (else tslab dumps the object).
  return describeAs(r, (v) => v.text, { shown });
}

// ---------------------------------------------------------------------------------------------
// Statistics for accuracies measured on n images.

/** Wilson score interval (95% by default) of k successes in n trials: [low, high]. */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Newcombe's interval (method 10) for the difference pB − pA of two independent proportions. */
export function differenceInterval(
  kA: number,
  nA: number,
  kB: number,
  nB: number,
): [number, number] {
  const [lA, uA] = wilsonInterval(kA, nA);
  const [lB, uB] = wilsonInterval(kB, nB);
  const pA = kA / nA;
  const pB = kB / nB;
  const d = pB - pA;
  return [
    d - Math.sqrt((pB - lB) ** 2 + (uA - pA) ** 2),
    d + Math.sqrt((uB - pB) ** 2 + (pA - lA) ** 2),
  ];
}

/** Exact two-sided McNemar test: p-value for b vs c discordant pairs (binomial, p = 1/2). */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space to stay finite for large n.
  let logC = 0; // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

// ---------------------------------------------------------------------------------------------

export interface ReadHistoryOptions extends ShowOption {
  /** Number of classes: lets the reading say when training learned nothing (loss ≈ ln C). */
  classes?: number;
  /** Epochs the phase was asked to run (trainPhase's epochs − initialEpoch): says whether it stopped early. */
  plannedEpochs?: number;
  /**
   * How much the validation loss must move over the last fifth of the run, relative to its first
   * value, to count as still falling (default 1%); a rise after the minimum must be twice that to
   * count as overfitting.
   */
  tolerance?: number;
}

const series = (epochs: EpochLog[], key: string) => epochs.map((e) => e.metrics[key]);
const argMin = (v: number[]) => v.reduce((best, x, i) => (x < v[best] ? i : best), 0);

/**
 * How a phase went, from its History: still improving at the last epoch, levelled off, overfitting
 * (validation loss past its minimum and rising while the training loss falls), or not learning
 * (training loss still ≈ ln C); whether EarlyStopping stopped the run and which epoch it restored;
 * when ReduceLROnPlateau cut the rate; the train–validation accuracy gap at the end.
 */
export function readHistory(history: History, opts: ReadHistoryOptions = {}): Reading {
  const epochs = history.epochs;
  const n = epochs.length;
  if (n === 0) return reading('empty', ['No epoch finished in this run.'], { epochs: 0 }, opts);
  const loss = series(epochs, 'loss');
  const val = series(epochs, 'val_loss');
  const hasVal = val.every((v) => typeof v === 'number' && Number.isFinite(v));
  const tol = opts.tolerance ?? 0.01;
  const at = (i: number) => `epoch ${epochs[i].epoch + 1}`;
  const sentences: string[] = [];
  const facts: Reading['facts'] = { epochs: n };
  let verdict: string;

  const lossLast = loss[n - 1];
  const lnC = opts.classes ? Math.log(opts.classes) : undefined;
  const trainAcc = series(epochs, 'accuracy');
  const accLast = trainAcc[n - 1];
  const chance = opts.classes ? 1 / opts.classes : undefined;
  const learnedNothing =
    lnC !== undefined &&
    lossLast >= 0.9 * lnC &&
    (accLast === undefined || (chance !== undefined && accLast <= 2 * chance));
  // Within that verdict, "nothing" only where the loss really sits at a guess's; 2% under it is
  // already some learning ("little").
  const atGuess = lnC !== undefined && lossLast >= 0.98 * lnC;

  if (!hasVal) {
    sentences.push(
      `Over ${n} epoch${n > 1 ? 's' : ''} the training loss went from ${num(loss[0])} to ${num(lossLast)}; there was no validation set to judge overfitting.`,
    );
    verdict = learnedNothing ? 'not learning' : 'no validation';
  } else {
    const best = argMin(val);
    const window = Math.max(2, Math.ceil(n / 5)); // the last fifth of the run, at least 2 epochs
    const scale = Math.max(Math.abs(val[0]), 1e-8);
    Object.assign(facts, {
      bestEpoch: epochs[best].epoch + 1,
      bestValLoss: val[best],
      lastValLoss: val[n - 1],
    });
    sentences.push(
      `Over ${n} epochs the training loss went from ${num(loss[0])} to ${num(lossLast)} and the validation loss from ${num(val[0])} to ${num(val[n - 1])}` +
        (best < n - 1 ? ` (lowest ${num(val[best])} at ${at(best)}).` : ', its lowest value.'),
    );
    const rise = val[n - 1] - val[best];
    const recentDrop = val[Math.max(0, n - 1 - window)] - val[n - 1];
    if (learnedNothing) {
      verdict = 'not learning';
      sentences.push(
        `The training loss is still ${num(lossLast)}, close to ln(${opts.classes}) = ${num(lnC!)}, the loss of a uniform guess` +
          (accLast !== undefined
            ? `, and training accuracy ${pct(accLast)} is near chance (${pct(chance!)})`
            : '') +
          (atGuess
            ? ': the model learned nothing in this run.'
            : `: the model learned little in this run (its loss is ${pct(1 - lossLast / lnC!)} below a uniform guess's).`),
      );
    } else if (best < n - 1 && rise > 2 * tol * scale && loss[n - 1] < loss[best]) {
      verdict = 'overfitting';
      sentences.push(
        `The validation loss bottomed out at ${at(best)} and rose by ${num(rise)} (${pct(rise / val[best])}) by the last epoch while the training loss kept falling (${num(loss[best])} → ${num(lossLast)}): the model overfits after ${at(best)}.`,
      );
    } else if (best >= n - window && recentDrop > tol * scale) {
      verdict = 'still improving';
      sentences.push(
        `The validation loss was still falling over the last ${window} epochs (by ${num(recentDrop)}): more epochs would probably help, so this run is under-trained rather than overfitting.`,
      );
    } else {
      verdict = 'plateau';
      sentences.push(
        `The validation loss has levelled off: over the last ${window} epochs it moved by less than ${pct(tol)} of its first value` +
          (best < n - 1 ? ` and stayed within ${num(rise)} of its lowest.` : '.'),
      );
    }
  }
  facts.verdict = verdict;

  const valAcc = series(epochs, 'val_accuracy');
  if (accLast !== undefined && valAcc[n - 1] !== undefined) {
    const gap = accLast - valAcc[n - 1];
    facts.accuracyGap = gap;
    // Validation can lie above training: the training figure averages the epoch's batches, taken in
    // training mode (dropout, augmentation if any) while the weights still change.
    const gapText =
      gap >= 0
        ? `a gap of ${(100 * gap).toFixed(1)} points`
        : `validation ${(-100 * gap).toFixed(1)} points above training, which averages the epoch's batches in training mode`;
    sentences.push(
      `At the last epoch training accuracy is ${pct(accLast)} and validation accuracy ${pct(valAcc[n - 1])} (${gapText}).`,
    );
  }

  if (history.restoredEpoch !== undefined) {
    const e = epochs.find((x) => x.epoch === history.restoredEpoch);
    const loss = e?.metrics.val_loss !== undefined ? ` (val_loss ${num(e.metrics.val_loss)})` : '';
    facts.restoredEpoch = history.restoredEpoch + 1;
    sentences.push(
      history.restoredEpoch === epochs[n - 1].epoch
        ? `The last epoch was also EarlyStopping's best${loss}, so the model keeps its weights.`
        : `EarlyStopping restored the weights of epoch ${history.restoredEpoch + 1}${loss}: the model evaluated below is that epoch, not the last.`,
    );
  }
  if (opts.plannedEpochs !== undefined) {
    facts.stoppedEarly = n < opts.plannedEpochs;
    sentences.push(
      n < opts.plannedEpochs
        ? `Training stopped after ${n} of ${opts.plannedEpochs} planned epochs.`
        : `All ${opts.plannedEpochs} planned epochs ran.`,
    );
  }
  const cuts = epochs.flatMap((e, i) =>
    i > 0 && e.lr < epochs[i - 1].lr
      ? [`epoch ${e.epoch + 1} (${epochs[i - 1].lr} → ${e.lr})`]
      : [],
  );
  facts.lrCuts = cuts.length;
  if (cuts.length)
    sentences.push(
      `The learning rate was cut ${cuts.length === 1 ? 'once' : `${cuts.length} times`}, from ${cuts.join(', ')}.`,
    );
  return reading(verdict, sentences, facts, opts);
}

// ---------------------------------------------------------------------------------------------

/** An accuracy measured on `size` images (an evaluateWithPredictions() result has these fields). */
export interface Measured {
  accuracy: number;
  size: number;
  /** Per-image predictions and labels (from evaluateWithPredictions()): allow a paired comparison on the same images. */
  predicted?: readonly number[];
  labels?: readonly number[];
}

export interface ReadResultOptions extends ShowOption {
  classes: number;
  /** What was measured, for the sentence (default "Validation accuracy"). */
  name?: string;
}

/** An accuracy with its 95% interval for this many images, set against chance (1/classes). */
export function readResult(result: Measured, opts: ReadResultOptions): Reading {
  const k = Math.round(result.accuracy * result.size);
  const [low, high] = wilsonInterval(k, result.size);
  const chance = 1 / opts.classes;
  const name = opts.name ?? 'Validation accuracy';
  const verdict =
    low > chance
      ? result.accuracy >= 3 * chance
        ? 'far above chance'
        : 'above chance'
      : high < chance
        ? 'below chance'
        : 'at chance';
  const sentence =
    `${name} is ${pct(result.accuracy)} on ${result.size} images (95% interval ${pct(low)}–${pct(high)}); ` +
    `chance is 1/${opts.classes} = ${pct(chance)}, so this is ` +
    (verdict === 'at chance'
      ? 'not distinguishable from guessing.'
      : verdict === 'below chance'
        ? 'below guessing — check that the labels and the class order match.'
        : `${verdict}${verdict === 'far above chance' ? ` (${(result.accuracy / chance).toFixed(1)}× chance)` : ''}.`);
  return reading(verdict, [sentence], { low, high, chance }, opts);
}

export interface ReadComparisonOptions extends ShowOption {
  /** Names of the two runs, e.g. ['transfer learning', 'fine-tuning']. */
  names: [string, string];
}

/**
 * The difference between two accuracies and whether this many images can tell them apart. On the
 * same images with per-image predictions: McNemar's exact test on the images where the two disagree;
 * otherwise Newcombe's 95% interval for the difference of two proportions. "Within noise" when the
 * numbers cannot separate them.
 */
export function readComparison(a: Measured, b: Measured, opts: ReadComparisonOptions): Reading {
  const [nameA, nameB] = opts.names;
  const diff = b.accuracy - a.accuracy;
  const points = `${Math.abs(100 * diff).toFixed(1)} points`;
  const direction =
    diff === 0
      ? `${nameB} and ${nameA} score the same`
      : `${nameB} is ${points} ${diff > 0 ? 'above' : 'below'} ${nameA}`;
  const paired =
    a.predicted &&
    b.predicted &&
    a.labels &&
    b.labels &&
    a.size === b.size &&
    a.labels.length === b.labels.length &&
    a.labels.every((l, i) => l === b.labels![i]);
  let significant: boolean;
  let detail: string;
  const facts: Reading['facts'] = { difference: diff };
  if (paired) {
    let onlyA = 0;
    let onlyB = 0;
    a.labels!.forEach((label, i) => {
      const okA = a.predicted![i] === label;
      const okB = b.predicted![i] === label;
      if (okA && !okB) onlyA++;
      if (okB && !okA) onlyB++;
    });
    const p = mcnemarExact(onlyA, onlyB);
    significant = p < 0.05;
    Object.assign(facts, { onlyA, onlyB, p });
    detail =
      `on the same ${a.size} images, ${onlyB} are right only with ${nameB} and ${onlyA} only with ${nameA} ` +
      `(McNemar's exact test p = ${p < 0.001 ? p.toExponential(1) : p.toFixed(3)})`;
  } else {
    const [low, high] = differenceInterval(
      Math.round(a.accuracy * a.size),
      a.size,
      Math.round(b.accuracy * b.size),
      b.size,
    );
    significant = low > 0 || high < 0;
    Object.assign(facts, { low, high });
    detail = `95% interval of the difference ${(100 * low).toFixed(1)} to ${(100 * high).toFixed(1)} points on ${a.size} and ${b.size} images`;
  }
  const verdict = significant ? (diff > 0 ? 'better' : 'worse') : 'within noise';
  facts.verdict = verdict;
  const sentence =
    `${direction} (${detail}): ` +
    (significant
      ? `a real difference at this sample size.`
      : `within noise — this many images cannot tell the two apart.`);
  return reading(verdict, [sentence.charAt(0).toUpperCase() + sentence.slice(1)], facts, opts);
}

export interface ReadInitialLossOptions extends ShowOption {
  classes: number;
  /** Accepted relative distance from ln(classes) (default 0.25: within 25%). */
  tolerance?: number;
}

/** The untrained model's loss against ln(classes), the loss of a uniform guess, with a verdict. */
export function readInitialLoss(loss: number, opts: ReadInitialLossOptions): Reading {
  const expected = Math.log(opts.classes);
  const tol = opts.tolerance ?? 0.25;
  const ratio = loss / expected;
  const verdict = Math.abs(ratio - 1) <= tol ? 'as expected' : ratio > 1 ? 'too high' : 'too low';
  const head = `The untrained model's loss is ${num(loss)} against ln(${opts.classes}) = ${num(expected)} for a uniform guess (${ratio.toFixed(2)}×; accepted: within ${pct(tol, 0)}).`;
  const tail =
    verdict === 'as expected'
      ? ' The check passes: the new head starts close to uniform predictions.'
      : verdict === 'too high'
        ? ' The check fails: the untrained head is confidently wrong. Look at the preprocessing and at the scale of the features the head receives (featureStats) before training.'
        : ' The check fails: an untrained model should not beat a uniform guess; check that validation images are not in the training set and that the head is new.';
  return reading(verdict, [head + tail], { expected, ratio }, opts);
}

export interface ReadClassesOptions extends ShowOption {
  /** How many confusions to name (default 3). */
  top?: number;
}

/** Classes the model never gets right, and the most frequent confusions (true → predicted). */
export function readClasses(
  result: {
    labels: readonly number[];
    predicted: readonly number[];
    classNames: readonly string[];
  },
  opts: ReadClassesOptions = {},
): Reading {
  const C = result.classNames.length;
  const support = new Array<number>(C).fill(0);
  const correct = new Array<number>(C).fill(0);
  const pairs = new Map<string, number>();
  result.labels.forEach((t, i) => {
    const p = result.predicted[i];
    support[t]++;
    if (p === t) correct[t]++;
    else pairs.set(`${t},${p}`, (pairs.get(`${t},${p}`) ?? 0) + 1);
  });
  const zero = support.flatMap((s, c) => (s > 0 && correct[c] === 0 ? [c] : []));
  const present = support.filter((s) => s > 0).length;
  const name = (c: number) => `"${result.classNames[c]}"`;
  const sentences: string[] = [];
  const listed = zero.slice(0, 8).map(name).join(', ') + (zero.length > 8 ? ', …' : '');
  sentences.push(
    zero.length === 0
      ? `Every one of the ${present} classes in this set has at least one image right.`
      : `${zero.length} of ${present} classes have zero recall (no image of them right): ${listed}.`,
  );
  const confusions = [...pairs.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, opts.top ?? 3)
    .map(([key, count]) => {
      const [t, p] = key.split(',').map(Number);
      return `${name(t)} taken for ${name(p)} (${count} of ${support[t]})`;
    });
  if (confusions.length) sentences.push(`Most frequent confusions: ${confusions.join('; ')}.`);
  return reading(
    zero.length ? 'zero-recall classes' : 'every class recalled',
    sentences,
    { zeroRecall: zero.length, classes: present },
    opts,
  );
}
