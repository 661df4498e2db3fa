/**
 * @module
 * Whether a site keeps its personal model (a residual head, a fine-tune of the last layers, or
 * Ditto's model): one is fitted on most of the site's training rows and judged on the rest (a
 * seeded validation share, split by label or class), against the global model on the same rows;
 * it is kept only where it lowers their cross-entropy by more than twice the standard error of
 * that difference, row by row, and misclassifies no more of them than the global model does; then
 * (for the methods fitted after the last round) the one fitted on every training row is used. The held-out rows are never looked at, so the report's figures on them stay
 * an honest test of the choice.
 */
import type { Layout } from "../../core/model/layout.ts";
import { seededRandom } from "../../core/random.ts";
import type { PersonalChoice } from "../../core/schemas/task.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { scoreRows } from "../model/score-rows.ts";
import { trainBody, trainHead, type TrainOptions } from "./train.ts";

/** The share of a site's training rows the choice is judged on. */
export const VALIDATION_SHARE = 0.2;
/** Fewer validation rows than this cannot tell the two apart: the global model stands. */
export const MIN_VALIDATION_ROWS = 5;
/**
 * How many standard errors of the row-by-row difference the personal model's cross-entropy must
 * be below the global model's: about 2.3 % one-sided under the normal approximation. With one
 * standard error, 4 of 40 site-runs on the digits (fine-tune and Ditto, 2 seeds) kept a model
 * that did worse on the held-out rows.
 */
export const KEEP_STANDARD_ERRORS = 2;

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
  const { fit, validation } = splitRows(data, share, rng);
  return { fit: rowsOf(data, fit), validation: rowsOf(data, validation) };
}

/** `validationSplit`'s rows by index, each list in ascending order. */
export function splitRows(data: Dataset, share: number, rng: () => number): { fit: number[]; validation: number[] } {
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
  return { fit: fit.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
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

/** How many rows the scores get right: probability ≥ 0.5 for a binary label, the largest of K for a K-class one. */
export function correctRows(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const k = y.length === 0 ? 1 : p.length / y.length;
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    if (k === 1) {
      if ((p[i]! >= 0.5 ? 1 : 0) === y[i]) right++;
      continue;
    }
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
    if (best === y[i]) right++;
  }
  return right;
}

/** The mean of `xs` and its standard error (the sample standard deviation over √n). */
export function meanAndError(xs: readonly number[]): { mean: number; se: number } {
  const m = mean(xs);
  if (xs.length < 2) return { mean: m, se: Number.POSITIVE_INFINITY };
  const variance = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  return { mean: m, se: Math.sqrt(variance / xs.length) };
}

/** Mixed into the seed of Ditto's split: the same at every round of a federation and at its evaluation. */
const DITTO_SPLIT_SEED = 0xd1775e;

/** The split Ditto's model and fedrep's head train on (fit) and are judged on (validation): one per site, whatever the round. */
export function dittoSplit(train: Dataset, siteSeed: number): { fit: Dataset; validation: Dataset } {
  return validationSplit(train, VALIDATION_SHARE, seededRandom((siteSeed ^ DITTO_SPLIT_SEED) >>> 0));
}

/** `dittoSplit`'s fit share as a mark per training row (1: fit, 0: validation): the rows fedrep's body step trains with the head in place. */
export function dittoFitRows(train: Dataset, siteSeed: number): Uint8Array {
  const marks = new Uint8Array(train.rows);
  for (const r of splitRows(train, VALIDATION_SHARE, seededRandom((siteSeed ^ DITTO_SPLIT_SEED) >>> 0)).fit) marks[r] = 1;
  return marks;
}

/** A personal model: a body (the global one, or the site's own) and a head on its output layer (null: none). */
export interface PersonalModelFit {
  readonly body: Float32Array;
  readonly head: Float32Array | null;
}

/**
 * A way of making a personal model (`TrainingConfig.personalization`). `fit` makes one from rows;
 * `refit` says whether the kept model is fitted again on every training row (the residual head, a
 * fine-tune: fitted once, after the last round) or is the very model judged (Ditto's, trained at
 * every round on the fit share only, so that the validation share stays unseen).
 */
export interface Personaliser {
  readonly method: string;
  readonly fit: (data: Dataset, rng: () => number) => PersonalModelFit;
  readonly refit: boolean;
}

/** Today's residual head: fitted on a frozen body, added to its output layer. */
export function residualHead(layout: Layout, body: Float32Array, opts: TrainOptions): Personaliser {
  return { method: "residual", refit: true, fit: (data, rng) => ({ body, head: trainHead(layout, body, new Float32Array(layout.headSize), data, { ...opts, rng }).params }) };
}

/**
 * The global model's last `layers` layers fine-tuned on the site's rows, the rest frozen, with
 * `opts.l2` as a pull towards the global weights (not towards zero).
 */
export function fineTune(layout: Layout, body: Float32Array, opts: TrainOptions, layers: number): Personaliser {
  const from = Math.max(0, layout.body.length - 2 * layers);
  return {
    method: `finetune of the last ${layers === 1 ? "layer" : `${layers} layers`}`,
    refit: true,
    fit: (data, rng) => ({
      body: trainBody(layout, body, data, { ...opts, l2: 0, rng, trainable: (i) => i >= from, ...(opts.l2 > 0 && { proximal: { mu: opts.l2, anchor: body } }) }).params,
      head: null,
    }),
  };
}

/**
 * Keeps a personal model only where one fitted like it on the fit share beats the global model on
 * the validation share of the training rows (`split`, drawn by the caller): answers the model to
 * use (the global one where none is kept) and the choice made. A refitting personaliser is fitted
 * on every training row first, with `rng` (so that what the caller draws from it next is as it
 * always was), then on the fit share with `choiceRng`.
 */
export function choosePersonal(
  layout: Layout,
  body: Float32Array,
  train: Dataset,
  how: Personaliser,
  split: { readonly fit: Dataset; readonly validation: Dataset },
  rng: () => number,
  choiceRng: () => number,
): { model: PersonalModelFit; choice: PersonalChoice } {
  const global: PersonalModelFit = { body, head: null };
  const full = how.refit ? how.fit(train, rng) : null;
  const { fit, validation } = split;
  const unjudged = (why: string) => ({ model: global, choice: { kind: "global" as const, method: how.method, reason: `global: ${why}`, validationRows: validation.rows, loss: null } });
  if (validation.rows < MIN_VALIDATION_ROWS) return unjudged(`${validation.rows} validation rows of ${train.rows} training rows are too few to judge a personal model (${how.method}) on`);
  const trial = how.fit(fit, choiceRng);
  const personalScores = scoreRows(layout, trial.body, trial.head, validation);
  const globalScores = scoreRows(layout, body, null, validation);
  const mine = rowCrossEntropy(personalScores, validation.y);
  const theirs = rowCrossEntropy(globalScores, validation.y);
  const personal = mean(mine);
  const globalLoss = mean(theirs);
  // A model that diverged scores NaN: no loss to compare, and none that could be reported.
  if (!Number.isFinite(personal) || !Number.isFinite(globalLoss)) return unjudged(`the personal model's (${how.method}) scores on the validation rows are not finite`);
  // Row by row, its loss less the global model's: kept only when its mean is below zero by more than twice its standard error, not by the luck of a few rows, and when it gets as many of the rows right.
  const { mean: gain, se } = meanAndError(mine.map((l, i) => l - theirs[i]!));
  const right = { personal: correctRows(personalScores, validation.y), global: correctRows(globalScores, validation.y) };
  const keep = gain + KEEP_STANDARD_ERRORS * se < 0 && right.personal >= right.global;
  const reason = `${keep ? "personal" : "global"}: cross-entropy on ${validation.rows} validation rows of the site's training rows, personal (${how.method}) ${personal.toFixed(4)}, global ${globalLoss.toFixed(4)} (difference ${gain.toFixed(4)} ± ${se.toFixed(4)}, one standard error; kept only below −${KEEP_STANDARD_ERRORS} standard errors); right ${right.personal} vs ${right.global}`;
  return { model: keep ? (full ?? trial) : global, choice: { kind: keep ? "personal" : "global", method: how.method, reason, validationRows: validation.rows, loss: { personal, global: globalLoss } } };
}

/** The residual head's choice as the evaluation makes it by default: the split drawn from `choiceRng`, the head (zeros: the global model) and the choice. */
export function choosePersonalHead(layout: Layout, body: Float32Array, train: Dataset, opts: TrainOptions, choiceRng: () => number): { head: Float32Array; choice: PersonalChoice } {
  const split = validationSplit(train, VALIDATION_SHARE, choiceRng);
  const { model, choice } = choosePersonal(layout, body, train, residualHead(layout, body, opts), split, opts.rng, choiceRng);
  return { head: model.head ?? new Float32Array(layout.headSize), choice };
}
