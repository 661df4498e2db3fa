import { ConfigError } from "../errors.ts";
import { weightedMedianOf } from "./median.ts";
import type { Aggregator } from "./stage.ts";
import type { StrategyState } from "./strategy.ts";
import { WEISZFELD_SCRATCH, weiszfeldPass } from "./weiszfeld-pass.ts";

/**
 * Centered clipping from `center` into `out`: `iterations` times, v ← v + Σ αᵢ·(xᵢ − v)·min(1, τ/‖xᵢ − v‖)
 * with αᵢ the sample weights normalised. Each step is a weighted average of the deltas and v, so
 * it runs as the same fused pass as a Weiszfeld iteration.
 */
export function centeredClipOf(deltas: readonly Float32Array[], weights: ArrayLike<number>, center: Float32Array, tau: number, iterations: number, out: Float32Array): Float32Array {
  const n = deltas.length;
  let total = 0;
  for (let s = 0; s < n; s++) total += weights[s]!;
  let v: Float32Array = Float32Array.from(center);
  let next: Float32Array = out;
  const points = [...deltas, v];
  const coeffs = new Float64Array(n + 1);
  const dist2 = new Float64Array(n + 1);
  const scratch = new Float64Array(WEISZFELD_SCRATCH);
  // With all weight on the centre, the first pass only measures each delta's distance from it.
  coeffs[n] = 1;
  weiszfeldPass(points, coeffs, next, dist2, scratch);
  for (let l = 0; l < iterations; l++) {
    [v, next] = [next, v];
    points[n] = v;
    let moved = 0;
    for (let s = 0; s < n; s++) {
      const c = (weights[s]! / total) * Math.min(1, tau / Math.sqrt(dist2[s]!));
      coeffs[s] = c;
      moved += c;
    }
    coeffs[n] = 1 - moved;
    weiszfeldPass(points, coeffs, next, dist2, scratch);
  }
  if (next !== out) out.set(next);
  return out;
}

/**
 * Centered clipping (Karimireddy et al. 2021, "Learning from History for Byzantine Robust
 * Optimization"): each delta pulls the previous round's aggregate towards it by at most `tau`, so
 * that Byzantine sites, whatever they send, move it by at most τ·(their weight share) per step.
 * The previous aggregate is the stage's state `center`; the first round, having none, starts from
 * the coordinate-wise weighted median instead of the paper's zero, so that the start is already
 * robust and sites that agree are followed at once. Weighted by sample counts.
 */
export function centeredClip(tau: number, iterations = 1): Aggregator {
  if (!(tau > 0 && Number.isFinite(tau))) throw new ConfigError(`centered-clip tau must be positive, got ${tau}`);
  if (!(Number.isInteger(iterations) && iterations >= 1 && iterations <= 100)) {
    throw new ConfigError(`centered-clip iterations must be a whole number in [1, 100], got ${iterations}`);
  }
  return {
    kind: "aggregator",
    name: "centered-clip",
    spec: iterations === 1 ? `centered-clip:${tau}` : `centered-clip:${tau}:${iterations}`,
    init: (): StrategyState => ({ scalars: {}, vectors: {} }),
    aggregate(updates, state, out) {
      const deltas = updates.map((u) => u.delta);
      const weights = updates.map((u) => u.weight);
      const prev = state.vectors.center;
      const center = prev?.length === out.length ? prev : weightedMedianOf(deltas, weights, new Float32Array(out.length));
      centeredClipOf(deltas, weights, center, tau, iterations, out);
      return { scalars: {}, vectors: { center: out.slice() } };
    },
  };
}
