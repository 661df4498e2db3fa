/**
 * @module
 * Whether a site keeps its personal head: the head is fitted on most of the site's training rows
 * and judged on the rest (a seeded validation share, split by label or class), against the global model on
 * the same rows; it is kept only where it lowers their cross-entropy by more than the standard
 * error of that difference, row by row, and then the head fitted on every training row is the one
 * used. The held-out rows are never looked at, so the report's figures on them stay
 * an honest test of the choice.
 */
import type { Layout } from "../../core/model/layout.ts";
import type { PersonalChoice } from "../../core/schemas/task.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { scoreRows } from "../model/score-rows.ts";
import { trainHead, type TrainOptions } from "./train.ts";

/** The share of a site's training rows the choice is judged on. */
export const VALIDATION_SHARE = 0.2;
/** Fewer validation rows than this cannot tell the two apart: the global model stands. */
export const MIN_VALIDATION_ROWS = 5;

function rowsOf(data: Dataset, indices: readonly number[]): Dataset {
  const x = new Float32Array(indices.length * data.dim);
  const y = new Uint8Array(indices.length);
  indices.forEach((r, i) => {
    x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
    y[i] = data.y[r]!;
  });
  return { x, y, rows: indices.length, dim: data.dim };
}

/**
 * A seeded split of `data` into rows to fit on and rows to judge on: `share` of each label's rows
 * (rounded, at least one of a label with two rows or more) go to validation.
 */
export function validationSplit(data: Dataset, share: number, rng: () => number): { fit: Dataset; validation: Dataset } {
  const fit: number[] = [];
  const validation: number[] = [];
  const labels = [...new Set(data.y)].sort((a, b) => a - b);
  for (const label of labels) {
    const rows: number[] = [];
    for (let r = 0; r < data.rows; r++) if (data.y[r] === label) rows.push(r);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const held = rows.length < 2 ? 0 : Math.max(1, Math.round(rows.length * share));
    validation.push(...rows.slice(0, held));
    fit.push(...rows.slice(held));
  }
  return { fit: rowsOf(data, fit.sort((a, b) => a - b)), validation: rowsOf(data, validation.sort((a, b) => a - b)) };
}

/**
 * Each row's cross-entropy against label `y`, probabilities kept off 0 and 1: binary from one
 * probability per row, or (`p` holding K per row, row-major) of the row's class's probability.
 */
export function rowCrossEntropy(p: ArrayLike<number>, y: ArrayLike<number>): number[] {
  const k = y.length === 0 ? 1 : p.length / y.length;
  return Array.from({ length: y.length }, (_, i) => {
    const q = (v: number) => Math.min(1 - 1e-7, Math.max(1e-7, v));
    if (k > 1) return -Math.log(q(p[i * k + y[i]!]!));
    return y[i] === 1 ? -Math.log(q(p[i]!)) : -Math.log(1 - q(p[i]!));
  });
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** The mean of `xs` and its standard error (the sample standard deviation over √n). */
export function meanAndError(xs: readonly number[]): { mean: number; se: number } {
  const m = mean(xs);
  if (xs.length < 2) return { mean: m, se: Number.POSITIVE_INFINITY };
  const variance = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  return { mean: m, se: Math.sqrt(variance / xs.length) };
}

/**
 * Fits the personal head on every training row (with `opts.rng`, as it always was) and keeps it only
 * where a head fitted the same way on the rest beats the global model on a validation share of the
 * training rows (drawn from `choiceRng`): answers the head to use (zeros: the global model) and the
 * choice made. The full fit draws from `opts.rng` whatever the choice, so what the caller trains
 * with that generator next is as it was.
 */
export function choosePersonal(layout: Layout, body: Float32Array, train: Dataset, opts: TrainOptions, choiceRng: () => number): { head: Float32Array; choice: PersonalChoice } {
  const zeros = new Float32Array(layout.headSize);
  const full = trainHead(layout, body, zeros, train, opts).params;
  const { fit, validation } = validationSplit(train, VALIDATION_SHARE, choiceRng);
  const unjudged = (why: string) => ({ head: zeros, choice: { kind: "global" as const, reason: `global: ${why}`, validationRows: validation.rows, loss: null } });
  if (validation.rows < MIN_VALIDATION_ROWS) return unjudged(`${validation.rows} validation rows of ${train.rows} training rows are too few to judge a personal head on`);
  const trial = trainHead(layout, body, zeros, fit, { ...opts, rng: choiceRng }).params;
  const mine = rowCrossEntropy(scoreRows(layout, body, trial, validation), validation.y);
  const theirs = rowCrossEntropy(scoreRows(layout, body, null, validation), validation.y);
  const personal = mean(mine);
  const global = mean(theirs);
  // A head that diverged scores NaN: no loss to compare, and none that could be reported.
  if (!Number.isFinite(personal) || !Number.isFinite(global)) return unjudged("the trial head's scores on the validation rows are not finite");
  // Row by row, the head's loss less the global model's: kept only when its mean is below zero by more than its standard error, not by the luck of a few rows.
  const { mean: gain, se } = meanAndError(mine.map((l, i) => l - theirs[i]!));
  const keep = gain + se < 0;
  const reason = `${keep ? "personal" : "global"}: cross-entropy on ${validation.rows} validation rows of the site's training rows, personal ${personal.toFixed(4)}, global ${global.toFixed(4)} (difference ${gain.toFixed(4)} ± ${se.toFixed(4)}, one standard error)`;
  return { head: keep ? full : zeros, choice: { kind: keep ? "personal" : "global", reason, validationRows: validation.rows, loss: { personal, global } } };
}
