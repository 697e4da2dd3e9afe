// Keras' `keras.utils.set_random_seed`: one seed for everything random in a run.
//
// tfjs draws the seeds of its initialisers (glorot, he, …), dropout masks and random ops from
// Math.random() whenever no explicit seed is given; our data pipeline seeds shuffles and
// augmentation itself. Replacing Math.random with a seeded generator therefore fixes weight
// initialisation and dropout, and two runs of the same cells give the same numbers.
import { hashSeed, mulberry32 } from './rng';

const original = Math.random;
let current: number | null = null;

/** Seed every random draw of this process (initialisers, dropout, tf.random*). */
export function setRandomSeed(seed: number): void {
  if (!Number.isInteger(seed))
    throw new Error(`setRandomSeed: seed must be an integer (got ${seed}).`);
  Math.random = mulberry32(hashSeed(seed, 0x5eed));
  current = seed;
}

/** Back to the unseeded Math.random. */
export function clearRandomSeed(): void {
  Math.random = original;
  current = null;
}

/** The seed set last with setRandomSeed, or null. */
export function randomSeed(): number | null {
  return current;
}

/**
 * Run `fn` with its own seeded stream and restore the caller's generator afterwards, so a library
 * step (pretraining, a test) is reproducible without moving the notebook's random stream.
 */
export async function withRandomSeed<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const saved = Math.random;
  Math.random = mulberry32(hashSeed(seed, 0x5eed));
  try {
    return await fn();
  } finally {
    Math.random = saved;
  }
}
