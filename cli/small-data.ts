/**
 * @module
 * Small data said out loud: a site with few training or test rows gets a warning before any
 * figure of it is printed (its figures come with 95 % intervals; these say why they are wide).
 */

/** A site with fewer training or test rows than this is warned about unless --min-rows says. */
export const DEFAULT_MIN_ROWS = 30;

interface Rows {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * One warning per site with fewer than `min` training or test rows; `count` says which rows count
 * (the labelled ones, where the label rule is known).
 */
export function smallSites(sites: readonly { name: string; train: Rows; test: Rows }[], min: number, count: (t: Rows) => number = (t) => t.rows.length): string[] {
  return sites.flatMap((s) => {
    const train = count(s.train);
    const test = count(s.test);
    const few = [train < min && "training", test < min && "test"].filter(Boolean).join(" and ");
    if (few === "") return [];
    return [`site ${s.name} has ${train} training and ${test} test rows, fewer than ${min} ${few} rows: its figures are uncertain (read their 95 % intervals) and may mislead`];
  });
}
