/**
 * Client-level differential privacy at the site (DP-FedAvg, McMahan et al. 2018, with the noise
 * added where the update is made so that it also holds under secure aggregation): the update is
 * scaled to an L2 norm of at most `clip`, then each of the `sites` sites adds Gaussian noise of
 * standard deviation `noiseMultiplier · clip / √sites`, so that the sum of their updates carries
 * noise of standard deviation `noiseMultiplier · clip`, the mechanism the accountant counts once a
 * round. The guarantee assumes every site adds its share: with fewer sites the sum holds less noise.
 *
 * @example
 * const sent = privatiseUpdate(update, 1, 1.2, 10, secureNormal);
 */
export function privatiseUpdate(update: Float32Array, clip: number, noiseMultiplier: number, sites: number, noise: () => number): Float32Array {
  let norm = 0;
  for (const v of update) norm += v * v;
  norm = Math.sqrt(norm);
  const scale = norm > clip ? clip / norm : 1;
  const sd = (noiseMultiplier * clip) / Math.sqrt(sites);
  return Float32Array.from(update, (v) => v * scale + sd * noise());
}
