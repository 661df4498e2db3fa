import { ConfigError } from "../errors.ts";
import { clipToNorm, l2Norm } from "./l2.ts";
import type { UpdateTransform } from "./stage.ts";

/**
 * Norm bounding (Sun et al. 2019, "Can You Really Backdoor Federated Learning?"): every site's
 * delta is scaled down to L2 norm at most `bound`, so no single site can move the model further.
 */
export function clip(bound: number): UpdateTransform {
  if (!(bound > 0 && Number.isFinite(bound))) throw new ConfigError(`clip bound must be positive, got ${bound}`);
  return {
    kind: "transform",
    name: "clip",
    spec: `clip:${bound}`,
    apply: (updates) => updates.map((u) => ({ ...u, delta: clipToNorm(u.delta, l2Norm(u.delta), bound) })),
  };
}
