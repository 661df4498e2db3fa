import { countMulticlass, MULTICLASS_BINS, type MulticlassCounts } from "../../core/metrics/multiclass.ts";
import { countPredictions } from "../../core/metrics/index.ts";
import type { EvalCounts } from "../../core/metrics/eval-counts.ts";
import { outputsOf, type Layout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { createVars, disposeVars, predict } from "./model.ts";

/**
 * Probabilities of a body (plus a personal head, if given) on every row of `data`: one per row for
 * a binary model, K per row (row-major) for a K-class one.
 */
export function scoreRows(layout: Layout, body: Float32Array, head: Float32Array | null, data: Dataset): Float32Array {
  const vars = createVars(layout, body, head, { body: false, head: false });
  try {
    return predict(data.x, data.rows, data.dim, vars);
  } finally {
    disposeVars(vars);
  }
}

/** What a site may share of a model on some rows: binary counts for one logit, K-class counts for K. */
export type ModelCounts = { readonly kind: "binary"; readonly counts: EvalCounts } | { readonly kind: "classes"; readonly counts: MulticlassCounts };

/** A model's counts on `data`, of the kind its output layer makes. */
export function countRows(layout: Layout, body: Float32Array, head: Float32Array | null, data: Dataset): ModelCounts {
  const p = scoreRows(layout, body, head, data);
  const k = outputsOf(layout);
  return k === 1 ? { kind: "binary", counts: countPredictions(p, data.y) } : { kind: "classes", counts: countMulticlass(p, data.y, k, MULTICLASS_BINS) };
}

/** A binary model's counts; a K-class model's are refused (a caller that handles only binary models). */
export function binaryCounts(c: ModelCounts): EvalCounts {
  if (c.kind !== "binary") throw new Error(`a binary model's counts were expected, not a ${c.counts.k}-class model's`);
  return c.counts;
}
