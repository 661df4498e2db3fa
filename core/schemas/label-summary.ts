import { z } from "zod";

const count = z.number().int().nonnegative();

/**
 * What a federation's label rule made of a set of rows (`summariseLabels`): which value was
 * positive, the counts, the spellings merged into one value, and the rows left out.
 */
export const LabelSummary = z.object({
  column: z.string(),
  /** The rule in words: `yes`, `yes, y`, `> 0`. */
  positive: z.string(),
  rows: count,
  positives: count,
  negatives: count,
  /** Rows whose label is a missing token (blank, NA…): left out. */
  unlabelled: count,
  /** Rows whose label is in neither of the spec's lists (or not a number under a threshold): left out, with some of the values seen. */
  unrecognised: count,
  unrecognisedValues: z.array(z.string()),
  /** A value written more than one way, and how many rows used the other spellings. */
  merged: z.array(z.object({ value: z.string(), spellings: z.array(z.string()), rows: count })),
  /** A K-class label: each class's value and its rows (`positives` are then the rows of every class but the first). */
  classes: z.array(z.object({ value: z.string(), rows: count })).optional(),
});
export type LabelSummary = z.infer<typeof LabelSummary>;
