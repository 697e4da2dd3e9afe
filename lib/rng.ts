// A small seeded PRNG. Augmentation draws and shuffles depend only on (seed, epoch, file index),
// so a run is reproducible and feature caches can key on those numbers.

/** murmur3's 32-bit finaliser: spreads the bits of an integer. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Combine integers (seed, epoch, index, ...) into one 32-bit seed. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32(h ^ mix32((p | 0) + 0x6d2b79f5));
  return h;
}

/** A uniform [0, 1) generator (mulberry32). */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator for one (seed, epoch, index) triple. */
export function rngFor(...parts: number[]): Rng {
  return mulberry32(hashSeed(...parts));
}

/** Uniform draw in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** A shuffled copy of `items` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A random 31-bit seed, for when the user gives none (Keras picks one too). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** FNV-1a hash of a string, as hex: short cache keys for option sets and functions. */
export function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
