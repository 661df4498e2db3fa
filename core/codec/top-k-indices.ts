/**
 * The coordinates of the `k` largest magnitudes in `values`, in increasing order; among equal
 * magnitudes at the threshold the lower coordinates win, so the choice is deterministic. Sorts a
 * copy of the magnitudes to find the threshold: O(n log n) time, O(n) memory, once per update.
 *
 * @example
 * topKIndices(new Float32Array([0.1, -3, 2, 0]), 2); // Uint32Array [1, 2]
 */
export function topKIndices(values: Float32Array, k: number): Uint32Array {
  const n = values.length;
  const kept = new Uint32Array(k);
  if (k === 0) return kept;
  const magnitudes = new Float32Array(n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(values[i]!);
  magnitudes.sort();
  const threshold = magnitudes[n - k]!;
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]!) > threshold) above++;
  let ties = k - above;
  for (let i = 0, j = 0; j < k; i++) {
    const magnitude = Math.abs(values[i]!);
    if (magnitude > threshold || (magnitude === threshold && ties-- > 0)) kept[j++] = i;
  }
  return kept;
}
