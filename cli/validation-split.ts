import { seededRandom, shuffle } from "../core/random.ts";
import type { Table } from "../core/preprocess/table.ts";
import type { SiteData } from "../gpu-runner/data/builtin-datasets.ts";

/**
 * Simulation only: takes `fraction` of each site's training rows (at least one row from every
 * site with two or more) as the coordinator-held validation set of contribution scoring. In a real
 * consortium that set is data the coordinator may hold — a public or consented reference cohort —
 * never rows taken from a hospital; here it stands in for one drawn from the same hospitals.
 *
 * @example
 * const { sites, validation } = holdOutValidation(data.sites, 0.1, seed);
 */
export function holdOutValidation(sites: readonly SiteData[], fraction: number, seed: number): { sites: SiteData[]; validation: Table } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const rng = seededRandom((seed ^ 0x7a11d) >>> 0);
  const columns = sites[0]?.train.columns ?? [];
  const rows: (readonly string[])[] = [];
  const kept = sites.map((site) => {
    const { train } = site;
    if (train.columns.join("\u0000") !== columns.join("\u0000")) throw new RangeError(`site ${site.name} has other columns than the first site`);
    const take = train.rows.length < 2 ? 0 : Math.max(1, Math.round(fraction * train.rows.length));
    const order = shuffle(train.rows.map((_, i) => i), rng);
    const held = new Set(order.slice(0, take));
    for (const i of held) rows.push(train.rows[i]!);
    return { ...site, train: { columns: train.columns, rows: train.rows.filter((_, i) => !held.has(i)) } };
  });
  return { sites: kept, validation: { columns, rows } };
}
