/**
 * @module
 * Weighted selection on one coordinate's values across sites. Each value is a float32 held in a
 * float64 "key" whose 29 low mantissa bits are zero, so the site's index fits there without
 * changing how keys order: selection moves one array, and a key still names its site's weight.
 * Keys must come from finite values: store `keys[i] = value`, then `words[2i + LOW_WORD] |= site`.
 */

/** Mask of the site index in a key's low word. */
const SITE = 0x1fffffff;
/** Index of a key's low 32-bit word within its pair in a Uint32Array view. */
export const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
/** Ranges this short are insertion-sorted. */
const SMALL = 8;

/**
 * Quickselect (Hoare 1961) by weight, with a branch-free Lomuto partition because comparisons of
 * site values are coin flips to a branch predictor; expected O(n) where a sort is O(n log n).
 *
 * Reorders `keys[lo..hi)` (weighing `rangeWeight` in all, with `base` before `lo`) so that the key
 * at the returned position k has every key before it ≤ it and every key after it ≥ it, and its
 * site's block of cumulative weight holds `target`: before < target ≤ before + weight(k), or k is
 * the last one. `before` goes to `res[0]`. `words` is a Uint32Array view of `keys`.
 */
export function selectWeighted(keys: Float64Array, words: Uint32Array, wts: ArrayLike<number>, lo: number, hi: number, rangeWeight: number, target: number, base: number, res: Float64Array): number {
  while (hi - lo > SMALL) {
    const a = keys[lo]!;
    const b = keys[(lo + hi) >> 1]!;
    const c = keys[hi - 1]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let lt = lo;
    for (let i = lo; i < hi; i++) {
      const x = keys[i]!;
      const less = +(x < pivot);
      keys[i] = keys[lt]!;
      keys[lt] = x;
      lt += less;
    }
    // The side with fewer keys is summed; the other follows from the range's weight.
    let below = 0;
    if (lt - lo <= hi - lt) {
      for (let i = lo; i < lt; i++) below += wts[words[2 * i + LOW_WORD]! & SITE]!;
    } else {
      let above = 0;
      for (let i = lt; i < hi; i++) above += wts[words[2 * i + LOW_WORD]! & SITE]!;
      below = rangeWeight - above;
    }
    if (lt === lo) {
      // The pivot is the least key (ties): move every key equal to it to the front instead.
      let le = lo;
      let equal = 0;
      for (let i = lo; i < hi; i++) {
        const x = keys[i]!;
        const same = +(x <= pivot);
        keys[i] = keys[le]!;
        keys[le] = x;
        equal += same * wts[words[2 * le + LOW_WORD]! & SITE]!;
        le += same;
      }
      if (target <= base + equal || le === hi) {
        hi = le;
        break;
      }
      base += equal;
      rangeWeight -= equal;
      lo = le;
      continue;
    }
    if (target <= base + below) {
      hi = lt;
      rangeWeight = below;
    } else {
      base += below;
      rangeWeight -= below;
      lo = lt;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const x = keys[i]!;
    let j = i - 1;
    while (j >= lo && keys[j]! > x) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = x;
  }
  let k = lo;
  for (; k < hi - 1; k++) {
    const w = wts[words[2 * k + LOW_WORD]! & SITE]!;
    if (target <= base + w) break;
    base += w;
  }
  res[0] = base;
  return k;
}

/*
 * The column statistics live here rather than beside their aggregators: under tsx an imported
 * binding read inside a per-value loop measured 2–5× slower than a module-local one.
 */

/** One coordinate's weighted median: the value at half the total weight, or the mean of the two values meeting there. */
export function medianColumn(keys: Float64Array, words: Uint32Array, wts: ArrayLike<number>, n: number, total: number, res: Float64Array): number {
  const half = total / 2;
  const k = selectWeighted(keys, words, wts, 0, n, total, half, 0, res);
  const value = Math.fround(keys[k]!);
  if (k === n - 1 || res[0]! + wts[words[2 * k + LOW_WORD]! & SITE]! - half > 1e-12 * total) return value;
  let next = Infinity;
  for (let j = k + 1; j < n; j++) next = Math.min(next, keys[j]!);
  return (value + Math.fround(next)) / 2;
}

/**
 * One coordinate's mean over the weight between `lower` and `total − lower` once its values are
 * sorted (the mean of its quantile function over [β, 1 − β] for lower = β·total): a site
 * straddling either cut counts with the part of its weight inside.
 */
export function trimmedColumn(keys: Float64Array, words: Uint32Array, wts: ArrayLike<number>, n: number, total: number, lower: number, res: Float64Array): number {
  const upper = total - lower;
  const low = LOW_WORD;
  const k1 = selectWeighted(keys, words, wts, 0, n, total, lower, 0, res);
  const lowEnd = res[0]! + wts[words[2 * k1 + low]! & SITE]!;
  const first = Math.fround(keys[k1]!);
  if (lowEnd >= upper || k1 === n - 1) return first;
  const k2 = selectWeighted(keys, words, wts, k1 + 1, n, total - lowEnd, upper, lowEnd, res);
  let sum = first * (lowEnd - lower) + Math.fround(keys[k2]!) * (upper - res[0]!);
  for (let j = k1 + 1; j < k2; j++) sum += Math.fround(keys[j]!) * wts[words[2 * j + low]! & SITE]!;
  return sum / (upper - lower);
}
