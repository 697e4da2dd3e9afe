// Class names and file names as Python sees them: Keras sorts folder names with Python's sorted(),
// which compares Unicode code points. JavaScript's default sort and `<` compare UTF-16 code units,
// which put a character outside the Basic Multilingual Plane (an emoji, U+1F600, stored as the
// surrogates D83D DE00) before U+E000..U+FFFF (e.g. 'ﬁ' U+FB01, full-width letters): another order,
// so another label for every class after it.

/** Compare two strings by Unicode code points, as Python's `<` does (0 when equal). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

/** `sorted(names)` in Python: a sorted copy in code point order. */
export function pythonSorted(names: readonly string[]): string[] {
  return names.slice().sort(compareCodePoints);
}

/**
 * Refuse a class list a model cannot learn from: an empty (or blank) name, or a name twice (with
 * `['a', 'b', 'a']` every 'a' would map to one index and the other would never be predicted).
 * `where` names the caller and the list's source, `fix` says what to change.
 */
export function checkClassNames(names: readonly unknown[], where: string, fix: string): void {
  if (!Array.isArray(names) || names.length === 0)
    throw new Error(`${where}: the class list is empty. ${fix}`);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (typeof n !== 'string')
      throw new Error(`${where}: class ${i} is ${JSON.stringify(n)}, not a string. ${fix}`);
    if (n.trim() === '')
      throw new Error(
        `${where}: class ${i} has an empty name (${JSON.stringify(n)}); every class needs a name. ${fix}`,
      );
    const first = seen.get(n);
    if (first !== undefined)
      throw new Error(
        `${where}: the class name ${JSON.stringify(n)} appears twice (positions ${first} and ${i}); every class needs its own name. ${fix}`,
      );
    seen.set(n, i);
  });
}
