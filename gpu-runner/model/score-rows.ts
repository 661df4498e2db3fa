import type { Layout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { createVars, disposeVars, predict } from "./model.ts";

/** Probabilities of a body (plus a personal head, if given) on every row of `data`. */
export function scoreRows(layout: Layout, body: Float32Array, head: Float32Array | null, data: Dataset): Float32Array {
  const vars = createVars(layout, body, head, { body: false, head: false });
  try {
    return predict(data.x, data.rows, data.dim, vars);
  } finally {
    disposeVars(vars);
  }
}
