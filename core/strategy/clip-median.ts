import { ConfigError } from "../errors.ts";
import { countMedian } from "./count-median.ts";
import { clipToNorm, l2Norm } from "./l2.ts";
import type { UpdateTransform } from "./stage.ts";

/**
 * Adaptive norm bounding: every delta is scaled down to at most `factor` × the median of the
 * round's delta norms, the scale-free bound of Andrew et al. 2021 ("Differentially Private
 * Learning with Adaptive Clipping") at its median quantile. The median counts sites, not samples,
 * so a site cannot raise the bound by claiming more samples; fewer than half the sites cannot
 * raise it at all.
 */
export function clipMedian(factor: number): UpdateTransform {
  if (!(factor >= 1 && Number.isFinite(factor))) throw new ConfigError(`clip-median factor must be at least 1, got ${factor}`);
  return {
    kind: "transform",
    name: "clip-median",
    spec: `clip-median:${factor}`,
    apply(updates) {
      const norms = updates.map((u) => l2Norm(u.delta));
      const bound = factor * countMedian(norms);
      return updates.map((u, s) => ({ ...u, delta: clipToNorm(u.delta, norms[s]!, bound) }));
    },
  };
}
