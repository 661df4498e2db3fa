/**
 * Client-level differential privacy at the site (DP-FedAvg, McMahan et al. 2018, with the noise
 * added where the update is made): the update is scaled to an L2 norm of at most `clip`, then
 * Gaussian noise of standard deviation `noiseMultiplier · clip / √shares` is added. With `shares`
 * = 1 every update is private on its own, against a coordinator that sees each one — what the
 * runner does today. Under secure aggregation, where the coordinator sees only the sum of
 * `sites` updates, each site may add a `1/√sites` share, so that the sum carries
 * `noiseMultiplier · clip` (that guarantee assumes every site adds its share).
 *
 * @example
 * const sent = privatiseUpdate(update, 1, 1.2, 1, secureNormal); // private on its own
 */
export function privatiseUpdate(update: Float32Array, clip: number, noiseMultiplier: number, shares: number, noise: () => number): Float32Array {
  let norm = 0;
  for (const v of update) norm += v * v;
  norm = Math.sqrt(norm);
  const scale = norm > clip ? clip / norm : 1;
  const sd = (noiseMultiplier * clip) / Math.sqrt(shares);
  return Float32Array.from(update, (v) => v * scale + sd * noise());
}
