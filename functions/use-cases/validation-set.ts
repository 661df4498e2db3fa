import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { applyPreprocessing, type Dataset } from "../../core/preprocess/transform.ts";
import type { Preprocessing } from "../../core/schemas/preprocessing.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";

/** Rows, not aggregates: only data the consortium may hold centrally (a public or consented reference set). */
export const MAX_VALIDATION_ROWS = 100_000;

/** `PUT /v1/admin/validation`: raw rows with a header, every cell a string, as a site's CSV reads. */
export const ValidationSet = z
  .object({
    columns: z.array(z.string().min(1)).min(1).max(10_000),
    rows: z.array(z.array(z.string())).min(1).max(MAX_VALIDATION_ROWS),
  })
  .refine((t) => t.rows.every((r) => r.length === t.columns.length), { message: "every row needs one cell per column" });
export type ValidationSet = z.infer<typeof ValidationSet>;

/**
 * Stores the coordinator's validation set, which turns on validation-based contribution scoring
 * (when the federation scores contributions). Its columns must include the label and every
 * feature; it can be replaced at any time, and the next aggregated round uses the new one.
 */
export async function putValidationSet(deps: CoordinatorDeps, set: ValidationSet): Promise<{ rows: number }> {
  const { config } = await loadFederation(deps);
  const needed = [config.features.label.column, ...config.features.features.map((f) => f.column)];
  const missing = needed.filter((c) => !set.columns.includes(c));
  if (missing.length > 0) throw new ConsiliumError("BAD_VALIDATION_SET", `validation set lacks column(s) ${missing.join(", ")}`, 422);
  await writeJson(deps.store, keys.validation, set);
  deps.logger.info("validation set stored", { rows: set.rows.length });
  return { rows: set.rows.length };
}

/** The validation set under the federation's preprocessing; null when none was stored or no row has a label. */
export async function loadValidationData(deps: CoordinatorDeps, prep: Preprocessing): Promise<Dataset | null> {
  const set = await readJson(deps.store, keys.validation, ValidationSet);
  if (set === null) return null;
  const data = applyPreprocessing(set, prep);
  return data.rows > 0 ? data : null;
}
