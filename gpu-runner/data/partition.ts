/**
 * @module
 * Spreads one table over simulated sites: IID, non-IID by a Dirichlet draw over label proportions
 * (Hsu, Qi & Brown 2019), or by the values of a column; then a stratified train/test split per site.
 */
import type { Table } from "../../core/preprocess/table.ts";
import { columnIndex } from "../../core/preprocess/table.ts";
import { shuffle, standardNormal } from "../../core/random.ts";

export type SplitSpec = { kind: "iid" } | { kind: "dirichlet"; alpha: number } | { kind: "column"; column: string };

export function parseSplit(text: string): SplitSpec {
  if (text === "iid") return { kind: "iid" };
  const d = /^dirichlet:([0-9.]+)$/.exec(text);
  if (d?.[1] && Number(d[1]) > 0) return { kind: "dirichlet", alpha: Number(d[1]) };
  const c = /^column:(.+)$/.exec(text);
  if (c?.[1]) return { kind: "column", column: c[1] };
  throw new Error(`unknown split "${text}" (expected iid, dirichlet:ALPHA or column:NAME)`);
}


/** Marsaglia & Tsang (2000) gamma variate, with the alpha < 1 boost. */
export function gamma(alpha: number, rng: () => number): number {
  if (alpha < 1) return gamma(alpha + 1, rng) * Math.pow(1 - rng(), 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = standardNormal(rng);
    const v = Math.pow(1 + c * z, 3);
    if (v <= 0) continue;
    if (Math.log(1 - rng()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Row indices per site. Every site gets at least two rows of the table (four under a Dirichlet split). */
export function partition(table: Table, spec: SplitSpec, sites: number, labelOf: (row: readonly string[]) => string, rng: () => number): number[][] {
  const n = table.rows.length;
  if (spec.kind === "column") {
    const col = columnIndex(table, spec.column);
    const groups = new Map<string, number[]>();
    table.rows.forEach((r, i) => groups.set(r[col] ?? "", [...(groups.get(r[col] ?? "") ?? []), i]));
    return [...groups.keys()].sort().map((k) => groups.get(k) ?? []);
  }
  if (sites < 1 || sites > n / 2) throw new Error(`cannot spread ${n} rows over ${sites} sites`);
  // The top-up below needs four rows a site to exist, or it moves rows back and forth for ever.
  if (spec.kind === "dirichlet" && n < 4 * sites) throw new Error(`cannot spread ${n} rows over ${sites} sites with a Dirichlet split (it needs 4 rows a site)`);
  const out: number[][] = Array.from({ length: sites }, () => []);
  if (spec.kind === "iid") {
    shuffle([...Array(n).keys()], rng).forEach((i, k) => out[k % sites]?.push(i));
    return out;
  }
  const byLabel = new Map<string, number[]>();
  table.rows.forEach((r, i) => byLabel.set(labelOf(r), [...(byLabel.get(labelOf(r)) ?? []), i]));
  for (const idx of byLabel.values()) {
    shuffle(idx, rng);
    const g = Array.from({ length: sites }, () => gamma(spec.alpha, rng));
    const total = g.reduce((a, b) => a + b, 0);
    let start = 0;
    let acc = 0;
    g.forEach((w, k) => {
      acc += w / total;
      const end = k === sites - 1 ? idx.length : Math.round(acc * idx.length);
      out[k]?.push(...idx.slice(start, end));
      start = end;
    });
  }
  // A site needs rows to train and to test; top up empty ones from the largest.
  for (const site of out) {
    while (site.length < 4) {
      const largest = out.reduce((a, b) => (b.length > a.length ? b : a));
      const moved = largest.pop();
      if (moved === undefined) break;
      site.push(moved);
    }
  }
  return out;
}

/** Stratified split of a site's rows into train and test. */
export function trainTestSplit(indices: number[], labelOf: (i: number) => string, testFraction: number, rng: () => number): { train: number[]; test: number[] } {
  const byLabel = new Map<string, number[]>();
  for (const i of indices) {
    const label = labelOf(i);
    const group = byLabel.get(label);
    if (group) group.push(i);
    else byLabel.set(label, [i]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const idx of byLabel.values()) {
    shuffle(idx, rng);
    const k = idx.length < 2 ? 0 : Math.max(1, Math.round(idx.length * testFraction));
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

export function subset(table: Table, indices: readonly number[]): Table {
  return { columns: table.columns, rows: indices.map((i) => table.rows[i] ?? []) };
}
