/**
 * @module
 * The attack lab: what a compromised hospital sends instead of an honest update, for testing
 * robust aggregation in simulation. Never wired into `consilium site`.
 */
import { ConfigError } from "../../core/errors.ts";
import { seededRandom, shuffle, standardNormal } from "../../core/random.ts";
import { DEFAULT_MAX_UPDATE_ABS } from "../../core/schemas/federation.ts";

export type Attack =
  | { readonly kind: "sign-flip" }
  | { readonly kind: "scale"; readonly factor: number }
  | { readonly kind: "gaussian"; readonly sigma: number }
  | { readonly kind: "label-flip" }
  /** "A little is enough" (Baruch et al. 2019): mean − z·sd of benign updates, estimated from own data. */
  | { readonly kind: "alie"; readonly z: number }
  /** Inner-product manipulation (Xie et al. 2019): −ε times the benign mean. */
  | { readonly kind: "ipm"; readonly epsilon: number };

/** `sign-flip`, `scale:F`, `gaussian:SIGMA`, `label-flip`, `alie[:Z]` or `ipm[:EPSILON]`. */
export function parseAttack(text: string): Attack {
  const [name = "", arg] = text.split(":");
  const num = (fallback?: number) => {
    const v = arg === undefined ? fallback : Number(arg);
    if (v === undefined || !Number.isFinite(v)) throw new ConfigError(`attack "${name}" needs a numeric argument, got "${arg ?? ""}"`);
    return v;
  };
  switch (name) {
    case "sign-flip":
    case "label-flip":
      if (arg !== undefined) throw new ConfigError(`attack "${name}" takes no argument`);
      return { kind: name };
    case "scale":
      return { kind: "scale", factor: num() };
    case "gaussian": {
      const sigma = num();
      if (!(sigma > 0)) throw new ConfigError(`attack "gaussian" needs a positive sigma, got ${sigma}`);
      return { kind: "gaussian", sigma };
    }
    case "alie":
      return { kind: "alie", z: num(1) };
    case "ipm":
      return { kind: "ipm", epsilon: num(0.5) };
    default:
      throw new ConfigError(`unknown attack "${name}" (known: sign-flip, scale:F, gaussian:SIGMA, label-flip, alie[:Z], ipm[:EPSILON])`);
  }
}


/**
 * The update a malicious site sends, from its honest update and (for ALIE) a few honest updates
 * trained on bootstrap resamples of its own rows, which stand in for the benign distribution.
 * Every value stays within the coordinator's default bound on update magnitudes: an attacker who
 * knows the published bound sends the most it lets through, rather than an update it refuses.
 */
export function poison(attack: Attack, honest: Float32Array, samples: readonly Float32Array[], rng: () => number): Float32Array {
  const out = poisonUnbounded(attack, honest, samples, rng);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-ATTACK_BOUND, Math.min(ATTACK_BOUND, out[i]!));
  return out;
}

/** Just inside DEFAULT_MAX_UPDATE_ABS, which the coordinator refuses values above. */
const ATTACK_BOUND = Math.fround(DEFAULT_MAX_UPDATE_ABS * (1 - 1e-6));

function poisonUnbounded(attack: Attack, honest: Float32Array, samples: readonly Float32Array[], rng: () => number): Float32Array {
  const out = new Float32Array(honest.length);
  switch (attack.kind) {
    case "sign-flip":
      for (let i = 0; i < out.length; i++) out[i] = -(honest[i] ?? 0);
      return out;
    case "scale":
      for (let i = 0; i < out.length; i++) out[i] = attack.factor * (honest[i] ?? 0);
      return out;
    case "gaussian":
      for (let i = 0; i < out.length; i++) out[i] = attack.sigma * standardNormal(rng);
      return out;
    case "label-flip":
      return Float32Array.from(honest);
    case "ipm":
      for (let i = 0; i < out.length; i++) out[i] = -attack.epsilon * (honest[i] ?? 0);
      return out;
    case "alie": {
      const all = [honest, ...samples];
      for (let i = 0; i < out.length; i++) {
        const mean = all.reduce((s, v) => s + (v[i] ?? 0), 0) / all.length;
        const sd = Math.sqrt(all.reduce((s, v) => s + ((v[i] ?? 0) - mean) ** 2, 0) / Math.max(1, all.length - 1));
        out[i] = mean - attack.z * sd;
      }
      return out;
    }
  }
}

/** z for ALIE from the number of sites and attackers (Baruch et al. 2019, section 3). */
export function alieZ(sites: number, malicious: number): number {
  const s = Math.floor(sites / 2 + 1) - malicious;
  const p = Math.min(0.999, Math.max(0.5, (sites - s) / sites));
  return inverseNormal(p);
}

/** Acklam's rational approximation of the standard normal quantile (|relative error| < 1.2e-9). */
export function inverseNormal(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile needs 0 < p < 1, got ${p}`);
  const [a1, a2, a3, a4, a5, a6] = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const [b1, b2, b3, b4, b5] = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const [c1, c2, c3, c4, c5, c6] = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const [d1, d2, d3, d4] = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => {
    const r = Math.sqrt(-2 * Math.log(q));
    return (((((c1 * r + c2) * r + c3) * r + c4) * r + c5) * r + c6) / ((((d1 * r + d2) * r + d3) * r + d4) * r + 1);
  };
  if (p < 0.02425) return tail(p);
  if (p > 1 - 0.02425) return -tail(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q) / (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1);
}

export interface AttackPlan {
  /** An attack spec, see `parseAttack`. */
  readonly spec: string;
  /** Share of the sites that are malicious; at least one when above 0. */
  readonly fraction: number;
}

/**
 * Which sites are malicious (by index) and the attack each runs, drawn by seed. ALIE without an
 * explicit z gets Baruch et al.'s z for this many sites and attackers.
 */
export function maliciousSites(sites: number, plan: AttackPlan, seed: number): Map<number, string> {
  const attack = parseAttack(plan.spec);
  const count = plan.fraction <= 0 ? 0 : Math.min(sites, Math.max(1, Math.round(plan.fraction * sites)));
  const spec = attack.kind === "alie" && !plan.spec.includes(":") ? `alie:${alieZ(sites, count)}` : plan.spec;
  const rng = seededRandom((seed ^ 0xa77ac) >>> 0);
  const order = shuffle([...Array(sites).keys()], rng);
  return new Map(order.slice(0, count).map((i) => [i, spec]));
}
