/**
 * @module
 * `--regions SPEC` of `consilium simulate`: which simulated sites form which region.
 */
import type { Region } from "./simulate.ts";

/**
 * Regions from a spec such as `eu:1-2;us:3,4;sg:5-6`: entries separated by `;`, each a region
 * name (lower-case letters, digits, dashes) and its sites by 1-based number, as single numbers
 * or ranges separated by commas. Every site must be in exactly one region. Throws naming the part.
 *
 * @example
 * parseRegions("eu:1-2;us:3-4", 4); // [{ name: "eu", sites: [0, 1] }, { name: "us", sites: [2, 3] }]
 */
export function parseRegions(spec: string, sites: number): Region[] {
  const regions: Region[] = [];
  const owner = new Map<number, string>();
  for (const entry of spec.split(";").map((e) => e.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9-]{0,39}):(.+)$/.exec(entry);
    if (!m) throw new Error(`"${entry}": expected NAME:SITES, a lower-case name and site numbers such as eu:1-3 or us:4,6`);
    const [, name = "", list = ""] = m;
    if (regions.some((r) => r.name === name)) throw new Error(`region "${name}" is named twice`);
    const indices: number[] = [];
    for (const part of list.split(",").map((p) => p.trim())) {
      const range = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!range) throw new Error(`"${entry}": "${part}" is not a site number or a range such as 1-3`);
      const [from, to] = [Number(range[1]), Number(range[2] ?? range[1])];
      if (from < 1 || to > sites || from > to) throw new Error(`"${entry}": sites run from 1 to ${sites}, not ${part}`);
      for (let n = from; n <= to; n++) {
        const other = owner.get(n);
        if (other !== undefined) throw new Error(`site ${n} is in both ${other} and ${name}`);
        owner.set(n, name);
        indices.push(n - 1);
      }
    }
    // A region's aggregate must never be one site's update.
    if (indices.length < 2) throw new Error(`"${entry}": a region needs at least two sites`);
    regions.push({ name, sites: indices });
  }
  const missing = Array.from({ length: sites }, (_, i) => i + 1).filter((n) => !owner.has(n));
  if (missing.length > 0) throw new Error(`every site needs a region; none for ${missing.join(", ")}`);
  return regions;
}
