import type { StalenessWeighting } from "./async-policy.ts";

/**
 * The factor an update `staleness` versions old is weighted by, in (0, 1]: FedAsync's forms
 * (Xie et al. 2019), see `StalenessWeighting`.
 *
 * @example
 * stalenessWeight(3, { kind: "polynomial", a: 0.5 }); // 0.5
 * stalenessWeight(6, { kind: "hinge", a: 10, b: 4 }); // 1 / 21
 */
export function stalenessWeight(staleness: number, weighting: StalenessWeighting): number {
  if (!(Number.isFinite(staleness) && staleness >= 0)) throw new RangeError(`staleness must be a finite number ≥ 0, got ${staleness}`);
  switch (weighting.kind) {
    case "constant":
      return 1;
    case "polynomial":
      return (1 + staleness) ** -weighting.a;
    case "hinge":
      return staleness <= weighting.b ? 1 : 1 / (weighting.a * (staleness - weighting.b) + 1);
  }
}
