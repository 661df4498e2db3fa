import { logAddExp, logExpm1 } from "./log-space.ts";
import { checkOrder } from "./rdp-orders.ts";
import { checkSampling } from "./sampled-gaussian.ts";

/**
 * RDP of one step of the sampled Gaussian mechanism at an integer order α ≥ 2 (Mironov, Talwar
 * and Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", Section 3.3):
 * log(A_α) / (α − 1) with A_α = Σ_{k=0..α} C(α,k) (1−q)^{α−k} q^k exp((k²−k)/(2σ²)).
 *
 * The binomial weights sum to 1 and the k = 0, 1 terms have exponent 0, so
 * A_α − 1 = Σ_{k=2..α} C(α,k) (1−q)^{α−k} q^k expm1((k²−k)/(2σ²)), a sum of positive terms taken
 * in log space: no cancellation when q is tiny (A_α − 1 ≈ C(α,2) q² (e^{1/σ²} − 1)) and no
 * overflow when the terms are huge. q = 0 gives 0, q = 1 the Gaussian mechanism's α/(2σ²).
 * Throws `ConfigError` for q outside [0, 1], σ not positive and finite, or an order that is not an
 * integer from 2 to `MAX_ORDER`.
 *
 * @example
 * sampledGaussianRdp(1, 2, 8); // 1 (= 8 / (2 × 2²))
 * sampledGaussianRdp(0.01, 1.1, 8); // ≈ 5.84e-4
 */
export function sampledGaussianRdp(q: number, sigma: number, order: number): number {
  checkSampling(q, sigma);
  checkOrder(order);
  if (q === 0) return 0;
  if (q === 1) return order / (2 * sigma * sigma);
  const logQ = Math.log(q);
  const logP = Math.log1p(-q);
  const terms = new Float64Array(order - 1);
  let logBinomial = Math.log(order);
  let top = -Infinity;
  for (let k = 2; k <= order; k++) {
    logBinomial += Math.log(order - k + 1) - Math.log(k);
    const term = logBinomial + (order - k) * logP + k * logQ + logExpm1((k * k - k) / (2 * sigma * sigma));
    terms[k - 2] = term;
    if (term > top) top = term;
  }
  if (top === Infinity) return Infinity;
  let scaled = 0;
  for (const term of terms) scaled += Math.exp(term - top);
  return logAddExp(0, top + Math.log(scaled)) / (order - 1);
}
