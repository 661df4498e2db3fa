/**
 * @module
 * Clinical metrics computed exactly from counts that sites report (score histograms and confusion
 * counts), pooled across sites by summing counts rather than averaging site metrics.
 */
export { aurocFromHistogram } from "./auroc.ts";
export { ClinicalMetrics, clinicalMetrics } from "./clinical-metrics.ts";
export { countPredictions } from "./count-predictions.ts";
export { CONFUSION_THRESHOLD, DEFAULT_BINS, EvalCounts, MAX_BINS, MIN_BINS } from "./eval-counts.ts";
export { mergeCounts } from "./merge-counts.ts";
export { MetricsError, type MetricsErrorCode } from "./metrics-error.ts";
