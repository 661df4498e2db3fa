/**
 * @module
 * A site's column names onto the consortium's, from `--map LOCAL=CONSORTIUM,…` and `--map-file`
 * (a CSV with the columns local and consortium), as `consilium site` and `site predict` take them.
 */
import { readCsv } from "../../gpu-runner/data/read-csv.ts";
import { UsageError, type Flag } from "./flags.ts";

/** The two flags' help, the same in every command that takes them. */
export const columnMapFlags: Readonly<Record<"map" | "map-file", Flag>> = {
  map: { type: "string", value: "LOCAL=CONSORTIUM,…", help: "this site's column names onto the consortium's, e.g. cholesterol=chol,max_hr=thalach" },
  "map-file": { type: "string", value: "FILE.csv", help: "the same mapping as a CSV with the columns local and consortium (one row per renamed column)" },
};

/**
 * Both flags as one renaming (no prototype: a column may be called "constructor"); a malformed
 * entry is a usage error naming its flag.
 */
export async function columnMap(flags: { readonly map?: string; readonly "map-file"?: string }): Promise<Record<string, string>> {
  const map: Record<string, string> = Object.create(null);
  const add = (flag: string, local: string, consortium: string) => {
    if (Object.hasOwn(map, local) && map[local] !== consortium) throw new UsageError(`--${flag}: column "${local}" is mapped twice`);
    map[local] = consortium;
  };
  const file = flags["map-file"];
  if (file !== undefined) {
    const table = await readCsv(file).catch((err: unknown) => {
      throw new UsageError(`--map-file: cannot read ${(err as Error).message}`);
    });
    const [local = -1, consortium = -1] = ["local", "consortium"].map((c) => table.columns.indexOf(c));
    if (local < 0 || consortium < 0) throw new UsageError(`--map-file: ${file} needs the columns local and consortium (has ${table.columns.join(", ")})`);
    table.rows.forEach((row, i) => {
      const [from, to] = [(row[local] ?? "").trim(), (row[consortium] ?? "").trim()];
      if (from === "" || to === "") throw new UsageError(`--map-file: ${file}, row ${i + 2}: expected a local and a consortium column name`);
      add("map-file", from, to);
    });
  }
  for (const pair of flags.map?.split(",") ?? []) {
    const [local = "", consortium = "", ...rest] = pair.split("=").map((x) => x.trim());
    if (rest.length > 0 || local === "" || consortium === "") throw new UsageError(`--map: expected LOCAL=CONSORTIUM pairs, e.g. cholesterol=chol (got "${pair}")`);
    add("map", local, consortium);
  }
  return map;
}
