/**
 * @module
 * One Observation's value for one feature: a quantity converted to the feature's unit and checked
 * against its range (`valueQuantity.code` tried before `.unit`), or a coded answer read as 0/1.
 */
import { POSITIVE, type CodedSlot, type QuantitySlot } from "./compile-cdm.ts";
import type { DropReason } from "./mapping-report.ts";
import type { ObservationPart } from "./resources.ts";

/** An Observation's value in the slot's unit and range, or why it has none. */
export function quantityValue(slot: QuantitySlot, o: ObservationPart): number | DropReason {
  const q = o.valueQuantity;
  if (q?.value === undefined) return "missing-value";
  if (q.comparator !== undefined) return "censored-value";
  const value = convert(slot, q.value, q.code) ?? convert(slot, q.value, q.unit);
  if (value === undefined) return "unit-not-convertible";
  return value < slot.min || value > slot.max ? "out-of-range" : value;
}

/** The reading in the slot's unit whatever its range (for reporting readings refused as out of range), or undefined. */
export function convertedQuantity(slot: QuantitySlot, o: ObservationPart): number | undefined {
  const q = o.valueQuantity;
  if (q?.value === undefined) return undefined;
  return convert(slot, q.value, q.code) ?? convert(slot, q.value, q.unit);
}

/** `value` in `unit` converted to the slot's unit; undefined when the unit is neither it nor declared. */
function convert(slot: QuantitySlot, value: number, unit: string | undefined): number | undefined {
  if (unit === undefined) return undefined;
  if (unit === slot.unit) return value;
  const conversion = slot.conversions.get(unit);
  return conversion === undefined ? undefined : value * conversion.factor + conversion.offset;
}

/** 1 for a positive answer, 0 for a negative one, or why neither. */
export function codedValue(slot: CodedSlot, o: ObservationPart): number | DropReason {
  const coding = o.valueCodeableConcept?.coding;
  if (coding === undefined) return "missing-value";
  const answer = slot.answers.match(coding);
  if (answer.length !== 1) return "unknown-code";
  return answer[0] === POSITIVE ? 1 : 0;
}
