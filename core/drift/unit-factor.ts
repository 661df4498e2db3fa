import { UNIT_FACTORS } from "../quality/assess-sites.ts";

export interface UnitMatch {
  readonly factor: number;
  readonly units: string;
  /** The current values are the factor *larger* than the reference (the ratio is its inverse). */
  readonly larger: boolean;
}

/**
 * The known conversion factor that `ratio` (reference mean over current mean) is within
 * `tolerance` (relative) of, as the factor or its inverse; null when none is. The rule of
 * core/quality/assess-sites.ts, whose helper is private there: only its table is shared.
 *
 * @example
 * unitFactor(226 / 5.85, 0.12); // { factor: 38.67, units: "mg/dL and mmol/L of cholesterol", larger: false }
 */
export function unitFactor(ratio: number, tolerance: number): UnitMatch | null {
  if (!(Number.isFinite(ratio) && ratio > 0)) return null;
  for (const u of UNIT_FACTORS) {
    if (Math.abs(ratio / u.factor - 1) <= tolerance) return { ...u, larger: false };
    if (Math.abs(ratio * u.factor - 1) <= tolerance) return { ...u, larger: true };
  }
  return null;
}
