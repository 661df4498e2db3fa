/**
 * @module
 * Value histograms over a feature's declared range, and the median they give: sites count, the
 * consortium adds the counts (exactly), and reads its median off the sum.
 */
import { DEFAULT_HISTOGRAM_BINS, type FeatureDef } from "../schemas/feature-spec.ts";

/** The bins a numeric feature's histogram has: equal widths over `range`; none without a range. */
export function histogramBins(f: FeatureDef): { readonly min: number; readonly max: number; readonly bins: number } | null {
  if (f.type !== "numeric" || f.range === undefined) return null;
  return { min: f.range.min, max: f.range.max, bins: f.bins ?? DEFAULT_HISTOGRAM_BINS };
}

/** The bin of `x`: values below the range fall in the first bin, above it in the last. */
export function binOf(x: number, h: { readonly min: number; readonly max: number; readonly bins: number }): number {
  // Multiplied before dividing: a value on a bin's lower edge lands in that bin, not the one below.
  const i = Math.floor(((x - h.min) * h.bins) / (h.max - h.min));
  return i < 0 ? 0 : i >= h.bins ? h.bins - 1 : i;
}

/** Adds histograms bin by bin; all must have the same number of bins. */
export function addHistograms(list: readonly (readonly number[])[]): number[] {
  const first = list[0];
  if (!first) throw new Error("no histograms to add");
  const sum = new Array<number>(first.length).fill(0);
  for (const h of list) {
    if (h.length !== sum.length) throw new Error(`histograms of ${sum.length} and ${h.length} bins cannot be added`);
    for (let i = 0; i < h.length; i++) sum[i] = (sum[i] ?? 0) + (h[i] ?? 0);
  }
  return sum;
}

/**
 * The grouped median: the bin holding the middle of the values, interpolated linearly inside it
 * (values spread evenly over their bin). Within one bin width of the exact median of the values
 * when they lie inside the range.
 */
export function histogramMedian(counts: readonly number[], h: { readonly min: number; readonly max: number }): number {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) throw new Error("a histogram without values has no median");
  const width = (h.max - h.min) / counts.length;
  const half = n / 2;
  let before = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && before + c >= half) return h.min + width * (i + (half - before) / c);
    before += c;
  }
  return h.max;
}
