/**
 * @module
 * Clinical metrics computed exactly from counts that sites report (score histograms and confusion
 * counts), pooled across sites by summing counts rather than averaging site metrics, each with a
 * 95 % interval: Wilson (1927) for proportions; for AUROC, DeLong, DeLong & Clarke-Pearson (1988)
 * on the logit scale, Hanley & McNeil (1982) where DeLong's variance is undefined; and calibration
 * (Brier score, ECE, Hosmer–Lemeshow) from the same histograms.
 */
export { aurocFromHistogram } from "./auroc.ts";
export { aurocInterval, hanleyMcNeilVariance } from "./auroc-interval.ts";
export { ClinicalMetrics, clinicalMetrics, MetricIntervals } from "./clinical-metrics.ts";
export { type BrierScore, brierScore, Calibration, calibration, CALIBRATION_GROUPS, CalibrationGroup, calibrationGroups, DEFAULT_CALIBRATION_ROWS, expectedCalibrationError, type Grouping, hosmerLemeshow } from "./calibration.ts";
export { countPredictions } from "./count-predictions.ts";
export { delongVariance } from "./delong-variance.ts";
export { CONFUSION_THRESHOLD, DEFAULT_BINS, EvalCounts, MAX_BINS, MIN_BINS } from "./eval-counts.ts";
export { HALF_ALPHA, Interval, Z95 } from "./interval.ts";
export { mergeCounts } from "./merge-counts.ts";
export { MetricsError, type MetricsErrorCode } from "./metrics-error.ts";
export { wilsonInterval } from "./wilson-interval.ts";
export { countMulticlass, MAX_CLASSES, mergeMulticlass, MULTICLASS_BINS, MulticlassCounts, MulticlassMetrics, multiclassMetrics, MulticlassSummary, multiclassSummary } from "./multiclass.ts";
