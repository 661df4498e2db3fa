/**
 * @module
 * A site's personal model used where it lives: read from its state folder with the consortium's
 * preprocessing it carries, rows checked against its features, and scored by the runner's own code
 * (`applyPreprocessing`, `scoreRows`), so a hospital never re-implements either. `consilium site
 * predict` and `consilium site serve` share it.
 *
 * A row's missing value is imputed exactly as the preprocessing defines (a missing token, or a
 * blank numeric cell). A feature's column that is not there at all is refused unless the model has
 * an input that says "missing" for it (a numeric feature with a missing-value indicator): a column
 * that is absent is more often named otherwise (`--map`) than not measured, and imputing it where
 * the model cannot tell would score every row as a patient at the consortium's mean or mode.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { CONFUSION_THRESHOLD } from "../../core/metrics/eval-counts.ts";
import { outputsOf } from "../../core/model/layout.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { canonicalLevel, isMissing, numericValue } from "../../core/preprocess/table.ts";
import type { FeatureTransform, Preprocessing } from "../../core/schemas/preprocessing.ts";
import { INSTALLED, loadSettledPersonalModel } from "../session/installed-model.ts";
import type { PersonalModel } from "../session/site-state.ts";
import { readStateOwner } from "../session/state-owner.ts";
import { scoreRows } from "./score-rows.ts";

/** What a caller may learn of one feature: where its value is read, and what stands in for a missing one. */
export const ModelFeature = z.object({
  name: z.string(),
  column: z.string(),
  kind: z.enum(["numeric", "categorical"]),
  /** Categorical: the levels the consortium saw. */
  levels: z.array(z.string()).optional(),
  /** Cells read as missing: the consortium's tokens and this feature's own. */
  missing: z.array(z.string()),
  /** The raw value a missing one is replaced by. */
  imputed: z.union([z.number(), z.string()]),
  /** Whether a row may leave the column out: the model then scores it with the value missing. */
  mayBeAbsent: z.boolean(),
});
export type ModelFeature = z.infer<typeof ModelFeature>;

/** A site's personal model as loaded for scoring. */
export interface LocalModel {
  readonly stateDir: string;
  readonly siteId: string | null;
  /** Known when the runner that saved the model had seen the federation's id. */
  readonly federation: string | null;
  readonly modelVersion: number;
  readonly savedAt: string;
  /** The threshold the model's evaluation counts are taken at; the state records no other. */
  readonly threshold: number;
  /** A K-class model's classes, in the order of its outputs (it decides by the most probable); null for a binary model. */
  readonly classes: readonly string[] | null;
  readonly preprocessing: Preprocessing;
  readonly personal: PersonalModel;
  /** `personal.json` as it was just before loading (see `modelStamp`). */
  readonly stamp: string;
}

/** Why a row cannot be scored; stable, for scripts to branch on. */
export const RowProblemCode = z.enum(["MISSING_COLUMN", "NOT_A_NUMBER", "UNKNOWN_LEVEL"]);
export type RowProblemCode = z.infer<typeof RowProblemCode>;

/** One cell that keeps its row from being scored. */
export interface RowProblem {
  /** The row's position among the rows given, from 0. */
  readonly index: number;
  readonly column: string;
  readonly code: RowProblemCode;
  readonly reason: string;
}

/** One row's cells by column; `undefined` where the row has no such column. */
export type RowCells = (column: string) => string | undefined;

export interface ScoredRows {
  /**
   * One per row given, null when the row was refused: the probability of the positive class, or
   * for a K-class model the probability of the row's most probable class.
   */
  readonly scores: readonly (number | null)[];
  /** A K-class model only: per row given, each class's probability in the model's order, and the most probable class's index (null when refused). */
  readonly classes?: readonly ({ readonly probabilities: readonly number[]; readonly best: number } | null)[];
  /** Every cell that refused a row, in row order. */
  readonly problems: readonly RowProblem[];
  /** Cells filled by a feature's missing-value rule, by column. */
  readonly imputed: ReadonlyMap<string, number>;
}

const PERSONAL = "personal.json";

/**
 * The identity (inode, size, mtime) of what names the model in use: the installed models' pointer
 * when the site has installed one, else `personal.json`; cheap to compare on every request; null
 * when there is neither.
 */
export async function modelStamp(stateDir: string): Promise<string | null> {
  for (const file of [join(INSTALLED, "current.json"), PERSONAL]) {
    try {
      const s = await stat(join(stateDir, file), { bigint: true });
      return `${file}:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return null;
}


/**
 * The personal model saved under `stateDir`, with the site and federation its `site.json` names.
 * @throws ConsiliumError NO_PERSONAL_MODEL when there is none yet; CORRUPT_STATE when its files disagree.
 * @example
 * await selectBackend();
 * const model = await loadLocalModel(".consilium/site/site-01");
 */
export async function loadLocalModel(stateDir: string, label: { readonly siteId?: string | null } = {}): Promise<LocalModel> {
  const stamp = await modelStamp(stateDir);
  if (stamp === null) throw new ConsiliumError("NO_PERSONAL_MODEL", `no personal model in ${stateDir}: run consilium site until the federation finishes first`, 404);
  const personal = await loadSettledPersonalModel(stateDir);
  const owner = await readStateOwner(stateDir);
  const { modelVersion, preprocessing, layout, savedAt } = personal.meta;
  const classes = preprocessing.label.classes ?? null;
  if ((classes?.length ?? 1) !== outputsOf(layout)) {
    throw new ConsiliumError("CORRUPT_STATE", `personal model: the label has ${classes ? `${classes.length} classes` : "one outcome"}, the layout ${outputsOf(layout)} outputs`, 500);
  }
  if (preprocessing.inputs.length !== layout.inputDim) {
    throw new ConsiliumError("CORRUPT_STATE", `personal model: preprocessing makes ${preprocessing.inputs.length} inputs, the layout takes ${layout.inputDim}`, 500);
  }
  // An installed version is the registry's; site.json's federation speaks of the last run's personal model.
  const federation = personal.meta.installed === undefined && owner?.personal?.modelVersion === modelVersion ? owner.personal.federation : null;
  return { stateDir, siteId: label.siteId ?? owner?.siteId ?? null, federation, modelVersion, savedAt, threshold: CONFUSION_THRESHOLD, classes, preprocessing, personal, stamp };
}

/** Whether a row may leave `f`'s column out: only when the model has an input saying its value is missing. */
export const mayBeAbsent = (f: FeatureTransform): boolean => f.kind === "numeric" && f.missingIndicator;

/** The model's features as a caller sees them. */
export function modelFeatures(model: LocalModel): ModelFeature[] {
  const tokens = model.preprocessing.missingTokens;
  return model.preprocessing.features.map((f) => ({
    name: f.name,
    column: f.column,
    kind: f.kind,
    ...(f.kind === "categorical" && { levels: f.levels }),
    missing: [...new Set([...tokens, ...f.missing])],
    imputed: f.kind === "numeric" ? (f.impute ?? f.mean) : f.impute,
    mayBeAbsent: mayBeAbsent(f),
  }));
}

/** The features a file with `columns` lacks: those it may lack (scored as missing), and those it may not. */
export function absentFeatures(model: LocalModel, columns: readonly string[]): { imputed: FeatureTransform[]; refused: FeatureTransform[] } {
  const absent = model.preprocessing.features.filter((f) => !columns.includes(f.column));
  return { imputed: absent.filter(mayBeAbsent), refused: absent.filter((f) => !mayBeAbsent(f)) };
}

/** How to say "not measured" in the model's terms: one of its missing tokens. */
export const missingHint = (tokens: readonly string[]): string => {
  const token = tokens.find((t) => t !== "");
  return token === undefined ? "an empty value" : `a missing token such as "${token}"`;
};

const shown = (levels: readonly string[]) => (levels.length <= 12 ? levels.join(", ") : `${levels.slice(0, 12).join(", ")}, … ${levels.length - 12} more`);

/** A row's cell for `f`: the text the one transform is to read and whether it is missing, or what is wrong with it. */
function readCell(f: FeatureTransform, raw: string | undefined, tokens: readonly string[]): { text: string; missing: boolean } | Omit<RowProblem, "index"> {
  const column = f.column;
  if (raw === undefined) {
    if (mayBeAbsent(f)) return { text: "", missing: true };
    return { column, code: "MISSING_COLUMN", reason: `absent: the model's feature ${f.name} needs this column (where it was not measured, give ${missingHint(tokens)})` };
  }
  if (f.kind === "numeric") {
    if (raw.trim() === "" || isMissing(raw, tokens, f.missing)) return { text: "", missing: true };
    if (!Number.isFinite(numericValue(raw))) return { column, code: "NOT_A_NUMBER", reason: `"${raw}" is not a number` };
    return { text: raw, missing: false };
  }
  if (isMissing(raw, tokens, f.missing)) return { text: raw, missing: true };
  if (!f.levels.includes(canonicalLevel(raw))) return { column, code: "UNKNOWN_LEVEL", reason: `"${raw}" is not a level the consortium saw (${shown(f.levels)})` };
  return { text: raw, missing: false };
}

/** A label column for the one transform, which drops unlabelled rows: named apart from the features, holding a value it reads as a label. */
function labelFor(prep: Preprocessing, columns: readonly string[]): { prep: Preprocessing; column: string; value: string } {
  let column = "label";
  while (columns.includes(column)) column += "_";
  let n = 0;
  while (prep.missingTokens.includes(String(n))) n++;
  return { prep: { ...prep, label: { column, positiveAbove: 0 } }, column, value: String(n) };
}

/**
 * Checks every row against the model's features and scores the ones that pass with the model's own
 * preprocessing; a row with any problem gets no score. Needs a tfjs backend (`selectBackend`).
 * @example
 * const { scores, problems } = scoreLocalRows(model, [(c) => ({ age: "63", ward: "B" })[c]]);
 */
export function scoreLocalRows(model: LocalModel, rows: readonly RowCells[]): ScoredRows {
  const prep = model.preprocessing;
  const columns = [...new Set(prep.features.map((f) => f.column))];
  const label = labelFor(prep, columns);
  const problems: RowProblem[] = [];
  const imputed = new Map<string, number>();
  const kept: { index: number; cells: string[] }[] = [];
  rows.forEach((cellOf, index) => {
    const texts = new Map<string, string>();
    const missing: string[] = [];
    let ok = true;
    for (const f of prep.features) {
      const cell = readCell(f, cellOf(f.column), prep.missingTokens);
      if ("code" in cell) {
        ok = false;
        problems.push({ index, ...cell });
      } else {
        texts.set(f.column, cell.text);
        if (cell.missing) missing.push(f.column);
      }
    }
    if (!ok) return;
    for (const c of missing) imputed.set(c, (imputed.get(c) ?? 0) + 1);
    kept.push({ index, cells: [...columns.map((c) => texts.get(c) ?? ""), label.value] });
  });
  const scores: (number | null)[] = rows.map(() => null);
  const k = model.classes?.length ?? 1;
  const classes: ({ probabilities: number[]; best: number } | null)[] = rows.map(() => null);
  if (kept.length > 0) {
    const data = applyPreprocessing({ columns: [...columns, label.column], rows: kept.map((r) => r.cells) }, label.prep);
    if (data.rows !== kept.length) throw new Error(`the preprocessing kept ${data.rows} of ${kept.length} rows`);
    const p = scoreRows(model.personal.meta.layout, model.personal.body, model.personal.head, data);
    kept.forEach((r, i) => {
      if (k === 1) {
        scores[r.index] = p[i] ?? null;
        return;
      }
      const probabilities = Array.from(p.subarray(i * k, (i + 1) * k));
      const best = probabilities.reduce((b, v, c) => (v > probabilities[b]! ? c : b), 0);
      classes[r.index] = { probabilities, best };
      scores[r.index] = probabilities[best]!;
    });
  }
  return { scores, problems, imputed, ...(k > 1 && { classes }) };
}

/** The decision at `threshold`: positive at or above it, as the evaluation counts have it. */
export const decide = (score: number, threshold: number): 0 | 1 => (score >= threshold ? 1 : 0);
