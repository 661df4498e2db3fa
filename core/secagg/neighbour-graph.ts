import { hkdfSync } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { fromHex } from "./hex.ts";
import { keystream, nextWords } from "./keystream.ts";
import type { SecAggConfig } from "./secagg-config.ts";

/** Each site's neighbours, ascending: `graph.get(i)`. Symmetric: j ∈ graph.get(i) ⇔ i ∈ graph.get(j). */
export type NeighbourGraph = ReadonlyMap<number, readonly number[]>;

/**
 * The round's neighbour graph over sites 1..`sites` (Bell et al., "Secure Single-Server
 * Aggregation with (Poly)Logarithmic Overhead", CCS 2020): a k-regular Harary graph on a random
 * ordering of the sites. The ordering is a Fisher–Yates shuffle driven by AES-256-CTR keyed with
 * HKDF(roundSeed), so every party derives the same graph from the public seed; each site is joined
 * to the k/2 sites before and after it on the shuffled ring, which makes the graph symmetric and
 * k-vertex-connected (removing fewer than k sites never disconnects it). `degree = sites − 1` is
 * the complete graph of SecAgg; otherwise the degree must be even.
 *
 * @example
 * const graph = neighbourGraph(config.roundSeed, config.sites, config.neighbours);
 * graph.get(3); // [5, 11, 17, …], k of them
 */
export function neighbourGraph(roundSeed: string, sites: number, degree: number): NeighbourGraph {
  if (!Number.isInteger(sites) || sites < 2) throw new ConfigError(`a neighbour graph needs at least 2 sites, got ${sites}`);
  if (!Number.isInteger(degree) || degree < 1 || degree > sites - 1 || (degree < sites - 1 && degree % 2 !== 0)) {
    throw new ConfigError(`degree must be ${sites - 1} (complete) or an even number from 2 to ${sites - 2}, got ${degree}`);
  }
  const all = Array.from({ length: sites }, (_, i) => i + 1);
  if (degree === sites - 1) return new Map(all.map((i) => [i, all.filter((j) => j !== i)]));

  const ring = shuffled(all, roundSeed);
  const graph = new Map<number, readonly number[]>();
  for (const [at, site] of ring.entries()) {
    const near: number[] = [];
    for (let d = 1; d <= degree / 2; d++) near.push(ring[(at + d) % sites]!, ring[(at - d + sites) % sites]!);
    graph.set(site, near.sort((a, b) => a - b));
  }
  return new Map([...graph].sort((a, b) => a[0] - b[0]));
}

/** The graph of a round's config. */
export function graphOf(config: SecAggConfig): NeighbourGraph {
  return neighbourGraph(config.roundSeed, config.sites, config.neighbours);
}

/** Fisher–Yates with unbiased draws (rejection sampling on u32 words) from the seed's keystream. */
function shuffled(items: number[], roundSeed: string): number[] {
  const key = new Uint8Array(hkdfSync("sha256", fromHex(roundSeed), new Uint8Array(0), "consilium/secagg/v1 neighbour-graph", 32));
  const stream = keystream(key);
  let words = nextWords(stream, 256);
  let next = 0;
  const draw = (): number => {
    if (next === words.length) [words, next] = [nextWords(stream, 256), 0];
    return words[next++]! >>> 0;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const m = i + 1;
    const limit = 2 ** 32 - (2 ** 32 % m);
    let x = draw();
    while (x >= limit) x = draw();
    const j = x % m;
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
