/**
 * @module
 * The parts of FHIR R4 Patient, Observation, Condition and Bundle that the mapper reads, as zod
 * schemas (unknown elements pass and are dropped). The compile-time checks at the end make sure
 * that every resource typed as R4 (`@types/fhir`) is accepted by these schemas.
 */
import type * as R4 from "fhir/r4.js";
import { z } from "zod";

export const Coding = z.object({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() });
export const CodeableConcept = z.object({ coding: z.array(Coding).optional(), text: z.string().optional() });
export const Reference = z.object({ reference: z.string().optional() });
export const Period = z.object({ start: z.string().optional(), end: z.string().optional() });
export const Quantity = z.object({
  value: z.number().optional(),
  comparator: z.enum(["<", "<=", ">=", ">"]).optional(),
  unit: z.string().optional(),
  system: z.string().optional(),
  code: z.string().optional(),
});

export const PatientPart = z.object({
  resourceType: z.literal("Patient"),
  id: z.string().min(1),
  gender: z.enum(["male", "female", "other", "unknown"]).optional(),
  birthDate: z.string().optional(),
});
export type PatientPart = z.infer<typeof PatientPart>;

export const ObservationPart = z.object({
  resourceType: z.literal("Observation"),
  id: z.string().optional(),
  status: z.enum(["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"]),
  code: CodeableConcept,
  subject: Reference.optional(),
  effectiveDateTime: z.string().optional(),
  effectiveInstant: z.string().optional(),
  effectivePeriod: Period.optional(),
  valueQuantity: Quantity.optional(),
  valueCodeableConcept: CodeableConcept.optional(),
});
export type ObservationPart = z.infer<typeof ObservationPart>;

export const ConditionPart = z.object({
  resourceType: z.literal("Condition"),
  id: z.string().optional(),
  code: CodeableConcept.optional(),
  subject: Reference,
  verificationStatus: CodeableConcept.optional(),
  onsetDateTime: z.string().optional(),
  onsetPeriod: Period.optional(),
  recordedDate: z.string().optional(),
});
export type ConditionPart = z.infer<typeof ConditionPart>;

/** A Bundle's envelope; each entry's resource is validated on its own, so one bad entry is one count. */
export const BundlePart = z.object({
  resourceType: z.literal("Bundle"),
  type: z.string().optional(),
  entry: z.array(z.object({ fullUrl: z.string().optional(), resource: z.unknown().optional() })).optional(),
});
export type BundlePart = z.infer<typeof BundlePart>;

type Accepts<Schema extends z.ZodType, R> = R extends z.input<Schema> ? true : false;
type ReadOf<R, K extends keyof R> = Pick<R, K>;
const checks: [
  Accepts<typeof PatientPart, ReadOf<R4.Patient, "resourceType" | "gender" | "birthDate"> & { id: string }>,
  Accepts<typeof ObservationPart, ReadOf<R4.Observation, "resourceType" | "id" | "status" | "code" | "subject" | "effectiveDateTime" | "effectiveInstant" | "effectivePeriod" | "valueQuantity" | "valueCodeableConcept">>,
  Accepts<typeof ConditionPart, ReadOf<R4.Condition, "resourceType" | "id" | "code" | "subject" | "verificationStatus" | "onsetDateTime" | "onsetPeriod" | "recordedDate">>,
  Accepts<typeof BundlePart, ReadOf<R4.Bundle, "resourceType" | "type" | "entry">>,
] = [true, true, true, true];
void checks;
