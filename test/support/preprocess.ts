/**
 * @module
 * Helpers for the preprocessing tests: reproducible messy tables, and the pooled table of several.
 */
import { seededRandom } from "../../core/random.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { Table } from "../../core/preprocess/table.ts";

export const messyColumns = ["id", "age", "chol", "cp", "ward", "num", "dx"] as const;

/** The spec for `messyTable`: two numeric features (one with its own missing value), two categorical. */
export const messySpec = (label: FeatureSpec["label"]): FeatureSpec => ({
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: ["0"] },
    { name: "cp", column: "cp", type: "categorical", missing: [] },
    { name: "ward", column: "ward", type: "categorical", missing: [] },
  ],
  label,
  missingTokens: ["", "NA", "?"],
});

/**
 * One site's table as a hospital export might look: numbers written as "63" or "63.0", missing
 * values as "", " ", "NA" or "?", cholesterol 0 meaning "not measured", a ward level that only
 * this site has, and some rows without a label. `site` shifts the distributions.
 */
export function messyTable(rows: number, seed: number, site: number): Table {
  const rng = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const maybeMissing = (value: string, p: number) => (rng() < p ? pick(["", " ", "NA", "?"]) : value);
  const out: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const age = 30 + 10 * site + Math.round(400 * rng()) / 10;
    const chol = rng() < 0.15 ? pick(["0", "0.0"]) : String(150 + Math.round(200 * rng()) + 20 * site);
    const cp = pick(["1", "1.0", "2", "2.0", "3", "4", "4.0", site === 0 ? "1" : "3"]);
    const ward = rng() < 0.05 ? `only-site-${site}` : pick(["north", "south", "east", "constructor"]);
    const num = String(Math.floor(rng() * (3 + site)));
    out.push([
      `p${site}-${i}`,
      maybeMissing(rng() < 0.5 ? String(age) : age.toFixed(1), 0.1),
      maybeMissing(chol, 0.05),
      maybeMissing(cp, 0.08),
      maybeMissing(ward, 0.06),
      maybeMissing(num, 0.07),
      maybeMissing(rng() < 0.4 + 0.1 * site ? "M" : "B", 0.05),
    ]);
  }
  return { columns: [...messyColumns], rows: out };
}

/** The table the sites' rows would form if they were pooled in one place (same columns). */
export function pooledTable(tables: readonly Table[]): Table {
  const columns = tables[0]?.columns ?? [];
  return { columns, rows: tables.flatMap((t) => t.rows) };
}
