import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadFhirDataset } from "../recipes.ts";
import { synthCommand } from "./synth-command.ts";

const quiet = { out: () => undefined, err: () => undefined, env: {} };

describe("consilium synth, then simulate --fhir's loader", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), "consilium-synth-"));
    dirs.push(d);
    return d;
  };

  it("writes the same bytes for the same seed, and hospitals the loader maps onto the data model", async () => {
    const [a, b] = [await dir(), await dir()];
    const lines: string[] = [];
    await synthCommand(["--sites", "3", "--patients", "600", "--seed", "4", "--out", a], { io: { ...quiet, out: (l) => lines.push(l) } });
    await synthCommand(["--sites", "3", "--patients", "600", "--seed", "4", "--out", b], { io: quiet });
    for (const f of ["site-01/Patient.ndjson", "site-02/Observation.ndjson", "site-03/Condition.ndjson", "manifest.json"]) {
      expect((await readFile(join(a, f))).equals(await readFile(join(b, f))), f).toBe(true);
    }
    expect(lines[0]).toMatch(/^consilium synth: 600 patients over 3 sites written to /);
    expect(lines.slice(1).map((l) => l.trim().split(":")[0])).toEqual(["site-01", "site-02", "site-03"]);

    const data = await loadFhirDataset({ dir: a, testFraction: 0.3, seed: 1 });
    expect(data.sites.map((s) => s.name)).toEqual(["site-01", "site-02", "site-03"]);
    const manifest = JSON.parse(await readFile(join(a, "manifest.json"), "utf8")) as { sites: { patients: number }[] };
    data.sites.forEach((s, k) => expect(s.train.rows.length + s.test.rows.length).toBe(manifest.sites[k]!.patients));
    expect(data.features.features.map((f) => f.name)).toContain("chol");
    expect(data.notes?.[0]).toMatch(/^site-01: \d+ patients, [\d,]+ resources read, [\d,]+ not used \(/);
  });

  it("refuses fewer patients than sites", async () => {
    await expect(synthCommand(["--sites", "5", "--patients", "3", "--out", await dir()], { io: quiet })).rejects.toThrow(/--patients must be at least --sites/);
  });
});
