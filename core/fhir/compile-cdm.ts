/**
 * @module
 * A CDM turned into what the mapper needs per resource: code indexes from codings to slots, and
 * per slot its unit, conversions, window in ms, aggregation and range.
 */
import type { SlotOp } from "./aggregate-slot.ts";
import type { Cdm, Window } from "./cdm.ts";
import { CodeIndex } from "./codes.ts";
import { DAY_MS, parseFhirDateTime } from "./fhir-date.ts";
import type { UnitConversion } from "./units.ts";

interface SlotBase {
  /** Index of the feature this slot fills; `features.length` for the label. */
  readonly owner: number;
  readonly from: number;
  readonly to: number;
  readonly op: SlotOp;
}
export interface QuantitySlot extends SlotBase {
  readonly kind: "quantity";
  readonly unit: string;
  readonly conversions: ReadonlyMap<string, UnitConversion>;
  readonly min: number;
  readonly max: number;
}
export interface CodedSlot extends SlotBase {
  readonly kind: "coded";
  readonly answers: CodeIndex;
}
export interface PresenceSlot extends SlotBase {
  readonly kind: "presence";
}
export type Slot = QuantitySlot | CodedSlot | PresenceSlot;

export interface CompiledCdm {
  readonly cdm: Cdm;
  readonly indexMs: number;
  /** Feature names, then the label's. */
  readonly names: readonly string[];
  readonly slots: readonly Slot[];
  /** Slot of each feature (and last, the label); -1 for Patient features. */
  readonly slotOf: readonly number[];
  readonly observationCodes: CodeIndex;
  readonly conditionCodes: CodeIndex;
}

/** Coded answers: set 1 is positive, set 0 negative. */
export const POSITIVE = 1;
export const NEGATIVE = 0;

export function compileCdm(cdm: Cdm): CompiledCdm {
  const indexMs = parseFhirDateTime(cdm.indexDate);
  const bounds = (w: Window) => ({
    from: w.fromDays === undefined ? Number.NEGATIVE_INFINITY : indexMs + w.fromDays * DAY_MS,
    to: w.toDays === undefined ? Number.POSITIVE_INFINITY : indexMs + w.toDays * DAY_MS,
  });
  const slots: Slot[] = [];
  const slotOf: number[] = [];
  const observationCodes = new CodeIndex();
  const conditionCodes = new CodeIndex();
  const quantity = (owner: number, s: { unit: string; conversions: UnitConversion[]; window: Window; aggregation: SlotOp }, range?: { min: number; max: number }): QuantitySlot => ({
    kind: "quantity",
    owner,
    ...bounds(s.window),
    op: s.aggregation,
    unit: s.unit,
    conversions: new Map(s.conversions.map((c) => [c.from, c])),
    min: range?.min ?? Number.NEGATIVE_INFINITY,
    max: range?.max ?? Number.POSITIVE_INFINITY,
  });
  const sources = [...cdm.features.map((f) => ({ source: f.source, range: f.type === "numeric" ? f.range : undefined })), { source: cdm.label, range: cdm.label.kind === "observation" ? cdm.label.range : undefined }];
  sources.forEach(({ source, range }, owner) => {
    if (source.kind === "age" || source.kind === "sex") {
      slotOf.push(-1);
      return;
    }
    const at = slots.length;
    slotOf.push(at);
    if (source.kind === "observation") {
      slots.push(quantity(owner, source, range));
      observationCodes.add(at, source.codes);
    } else if (source.kind === "observation-coded") {
      const answers = new CodeIndex();
      answers.add(POSITIVE, source.positive);
      answers.add(NEGATIVE, source.negative);
      slots.push({ kind: "coded", owner, ...bounds(source.window), op: "latest", answers });
      observationCodes.add(at, source.codes);
    } else {
      slots.push({ kind: "presence", owner, ...bounds(source.window), op: "presence" });
      conditionCodes.add(at, source.codes);
    }
  });
  return { cdm, indexMs, names: [...cdm.features.map((f) => f.name), cdm.label.name], slots, slotOf, observationCodes, conditionCodes };
}
