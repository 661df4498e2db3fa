import type { LabelDef } from "../schemas/feature-spec.ts";
import { canonicalLevel } from "./table.ts";

/** 1, 0, or null when the label is missing or not a number where a threshold is asked for. */
export function labelOf(value: string, def: LabelDef, missingTokens: readonly string[]): 0 | 1 | null {
  const t = value.trim();
  if (missingTokens.includes(t)) return null;
  if (def.positiveAbove !== undefined) {
    const n = Number(t);
    if (t === "" || !Number.isFinite(n)) return null;
    return n > def.positiveAbove ? 1 : 0;
  }
  const level = canonicalLevel(t);
  return (def.positive ?? []).some((p) => canonicalLevel(p) === level) ? 1 : 0;
}
