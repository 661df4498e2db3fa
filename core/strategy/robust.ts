/**
 * The recommended robust configuration, what the spec `robust` expands to:
 *
 * - `geomed`, the sample-weighted geometric median (RFA), because these federations are a handful
 *   of hospitals of unequal size: it withstands sites holding up to half the samples however few
 *   the sites, where `trimmed-mean:0.2` over 4 hospitals keeps part of one holding a third of them,
 *   and on clean synthetic rounds it stayed as close to the weighted mean as the trimmed mean did,
 *   where the coordinate-wise median strayed twice as far. It is also the cheapest of the robust
 *   aggregators (see `bench/aggregators.ts`).
 * - `clip-median:3` first, because sample counts are reported by the sites themselves: a site that
 *   claims most of the samples would own the geometric median, and the clip, whose median counts
 *   sites, still bounds the aggregate to 3 × the typical update norm. At 3× an honest hospital
 *   whose updates are larger for its patients being different is left alone.
 *
 * Expanded at construction, so that the spec a model and its audit record carry names the stages
 * that ran.
 */
export const ROBUST = "clip-median:3,geomed";
