/**
 * @module
 * What the mapper did with every resource: each one read is either used or dropped for exactly
 * one reason (`read = used + Σ dropped`), and each feature says how many rows have a value and
 * which readings it refused. A site can show this to its data steward or send the counts on.
 */
import { z } from "zod";

export const DropReason = z.enum([
  /** Not JSON, not an object, a required element missing or of the wrong type, or an unreadable date. */
  "invalid-resource",
  /** A resource type the CDM does not read (Encounter, MedicationRequest, …). */
  "unsupported-type",
  /** No coding in any feature's or the label's code set (or a coded answer in neither answer set). */
  "unknown-code",
  /** An Observation status the CDM does not accept, or a Condition refuted or entered in error. */
  "excluded-status",
  /** No `valueQuantity.value` (or answer) where the feature needs one; a Patient without birthDate or gender. */
  "missing-value",
  /** A value with a comparator ("<5"): a bound, not a measurement. */
  "censored-value",
  /** No effective (Observation) or onset/recorded (Condition) date to place it in a window. */
  "missing-date",
  /** A unit that is neither the feature's nor one of its declared conversions. */
  "unit-not-convertible",
  /** A value (after conversion) outside the feature's allowed range, or a level not allowed. */
  "out-of-range",
  /** A valid reading outside the feature's time window around the index date. */
  "outside-window",
  /** No subject, or a subject that no Patient in the input is. */
  "unknown-patient",
  /** A second Patient with an id already read (the first one is kept). */
  "duplicate-patient",
]);
export type DropReason = z.infer<typeof DropReason>;

const count = z.number().int().nonnegative();
export const ReasonCounts = z.partialRecord(DropReason, count);
export type ReasonCounts = z.infer<typeof ReasonCounts>;

export const ResourceCounts = z.object({ read: count, used: count, dropped: ReasonCounts });
export type ResourceCounts = z.infer<typeof ResourceCounts>;

export const FeatureCounts = z.object({
  /** Rows with a value. */
  present: count,
  /** Rows without one (no usable reading in the window, or a Patient element absent or not allowed). */
  missing: count,
  /** Readings in this feature's code set that it refused, by reason (one resource may count in several features). */
  dropped: ReasonCounts,
  /** The mean, in the feature's unit, of the readings refused as out of range (a unit error shows here). */
  outOfRangeMean: z.number().optional(),
});
export type FeatureCounts = z.infer<typeof FeatureCounts>;

export const MappingReport = z.object({
  /** Rows of the table: one per Patient read. */
  patients: count,
  /** By `resourceType` ("unknown" for input that has none). */
  resources: z.record(z.string(), ResourceCounts),
  features: z.record(z.string(), FeatureCounts),
  label: z.object({ name: z.string(), positive: count, negative: count, missing: count, dropped: ReasonCounts }),
});
export type MappingReport = z.infer<typeof MappingReport>;

/** Adds `n` to a reason's count. */
export function bump(counts: ReasonCounts, reason: DropReason, n = 1): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}
