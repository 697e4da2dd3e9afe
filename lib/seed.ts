// Keras' `keras.utils.set_random_seed`: one seed for everything random in a run.
//
// tfjs draws the seeds of its initialisers (glorot, he, …), dropout masks and random ops from
// Math.random() whenever no explicit seed is given; our data pipeline seeds shuffles and
// augmentation itself. Replacing Math.random with a seeded generator therefore fixes weight
// initialisation and dropout, and two runs of the same cells give the same numbers.
//
// A seed also turns on op determinism (TF's `enable_op_determinism`): the native backend otherwise
// picks 1 thread or all per kernel by timing, and a sum split over another number of threads rounds
// differently, so two seeded runs would drift apart. Backends subscribe with onOpDeterminism.
import { hashSeed, mulberry32 } from './rng';

const original = Math.random;
let current: number | null = null;
let deterministic = false;
const listeners: ((on: boolean) => void)[] = [];

function setOpDeterminism(on: boolean): void {
  deterministic = on;
  listeners.forEach((fn) => fn(on));
}

/** Calls fn now and whenever op determinism changes (a backend that has a choice to fix). */
export function onOpDeterminism(fn: (on: boolean) => void): void {
  listeners.push(fn);
  fn(deterministic);
}

export interface RandomSeedOptions {
  /**
   * Reproducible kernels too (default true): the native backend runs every kernel on all threads
   * instead of its faster-under-load adaptive pick. false keeps the pick; results then differ
   * between runs in the last digits.
   */
  opDeterminism?: boolean;
}

/** Seed every random draw of this process (initialisers, dropout, tf.random*). */
export function setRandomSeed(seed: number, opts: RandomSeedOptions = {}): void {
  if (!Number.isInteger(seed))
    throw new Error(`setRandomSeed: seed must be an integer (got ${seed}).`);
  Math.random = mulberry32(hashSeed(seed, 0x5eed));
  current = seed;
  setOpDeterminism(opts.opDeterminism ?? true);
}

/** Back to the unseeded Math.random (and the adaptive kernels). */
export function clearRandomSeed(): void {
  Math.random = original;
  current = null;
  setOpDeterminism(false);
}

/** The seed set last with setRandomSeed, or null. */
export function randomSeed(): number | null {
  return current;
}

/**
 * Run `fn` with its own seeded stream (and op determinism) and restore the caller's generator
 * afterwards, so a library step (pretraining, a test) is reproducible without moving the notebook's
 * random stream.
 */
export async function withRandomSeed<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const saved = Math.random;
  const savedDeterminism = deterministic;
  Math.random = mulberry32(hashSeed(seed, 0x5eed));
  setOpDeterminism(true);
  try {
    return await fn();
  } finally {
    Math.random = saved;
    setOpDeterminism(savedDeterminism);
  }
}
