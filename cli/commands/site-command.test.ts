import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo, parseFlags } from "./flags.ts";
import { splitRows } from "../../gpu-runner/data/site-data.ts";
import { loadSiteData, siteCommand, siteSpec } from "./site-command.ts";
import { usageOf } from "../../test/support/cli.ts";

const TOKEN = "cs_zurich-0a1b2c_s3cr3t-with_dashes";
const base = ["--coordinator", "http://127.0.0.1:8787", "--token", TOKEN];

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(siteSpec, argv, env);

describe("consilium site: flags", () => {
  it("takes a CSV with defaults for the split, the seed and the state dir", () => {
    expect(parseFlags(siteSpec, [...base, "--data", "rows.csv"])).toEqual({
      coordinator: "http://127.0.0.1:8787", token: TOKEN, data: "rows.csv", seed: 1, "state-dir": ".consilium/site", patience: 1800, verbose: false,
    });
  });

  it("takes every flag, and the token from the environment", () => {
    // Execute
    const flags = parseFlags(siteSpec, ["--coordinator", "https://fl.example.org", "--data", "a.csv", "--test-fraction", "0.2", "--seed", "7", "--state-dir", "s", "--backend", "cpu", "--verbose"], { CONSILIUM_SITE_TOKEN: TOKEN, CONSILIUM_PATIENCE: "60" });
    const shipped = parseFlags(siteSpec, [...base, "--dataset-site", "heart-disease:va"]);
    // Assert
    expect(flags).toEqual({ coordinator: "https://fl.example.org", token: TOKEN, data: "a.csv", "test-fraction": 0.2, seed: 7, "state-dir": "s", patience: 60, backend: "cpu", verbose: true });
    expect(shipped["dataset-site"]).toBe("heart-disease:va");
  });

  it("refuses bad values and combinations with one line naming the flag", () => {
    expect(usage(["--data", "a.csv"])).toBe("--coordinator: required");
    expect(usage(["--coordinator", "http://h:1", "--data", "a.csv"])).toBe("--token (or CONSILIUM_SITE_TOKEN): required");
    expect(usage(["--coordinator", "http://h:1", "--data", "a.csv"], { CONSILIUM_SITE_TOKEN: "abc" })).toBe("CONSILIUM_SITE_TOKEN: expected a site credential cs_<siteId>_<secret>, as consilium enrol prints it");
    expect(usage(["--coordinator", "fl.example.org", "--token", TOKEN, "--data", "a.csv"])).toBe('--coordinator: expected an http(s) URL such as http://127.0.0.1:8787 (got "fl.example.org")');
    expect(usage([...base])).toBe("give exactly one of --data FILE.csv, --fhir DIR or --dataset-site NAME:SITE");
    expect(usage([...base, "--data", "a.csv", "--dataset-site", "heart-disease:va"])).toBe("give exactly one of --data FILE.csv, --fhir DIR or --dataset-site NAME:SITE");
    expect(usage([...base, "--data", "a.csv", "--fhir", "site-01"])).toBe("give exactly one of --data FILE.csv, --fhir DIR or --dataset-site NAME:SITE");
    expect(usage([...base, "--data", "a.csv", "--cdm", "cdm.json"])).toBe("--cdm goes with --fhir");
    expect(usage([...base, "--fhir", "site-01", "--test", "b.csv"])).toBe("--fhir holds out --test-fraction of its patients; drop --test");
    expect(usage([...base, "--data", "a.csv", "--test", "b.csv", "--test-fraction", "0.2"])).toBe("give --test FILE.csv or --test-fraction F, not both");
    expect(usage([...base, "--dataset-site", "heart-disease:va", "--test-fraction", "0.2"])).toBe("--dataset-site brings its own test split; drop --test and --test-fraction");
    expect(usage([...base, "--dataset-site", "heart-disease:boston"])).toBe('--dataset-site: expected one of heart-disease:cleveland, heart-disease:hungarian, heart-disease:switzerland, heart-disease:va (got "heart-disease:boston")');
    expect(usage([...base, "--data", "a.csv", "--test-fraction", "1.5"])).toBe('--test-fraction: expected a number between 0 and 1, exclusive (got "1.5")');
    expect(usage([...base, "--data", "a.csv", "--seed=-1"])).toBe('--seed: expected a whole number from 0 to 4294967295 (got "-1")');
    expect(usage([...base, "--data", "a.csv", "--backend", "metal"])).toBe('--backend: expected one of tfjs-node-gpu, tfjs-node, wasm, cpu (got "metal")');
  });
});

describe("consilium site: its rows", () => {
  let dir: string;
  const header = "age,chol,num";
  const rows = Array.from({ length: 20 }, (_, i) => `${40 + i},${200 + i},${i % 2}`);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-site-"));
    await writeFile(join(dir, "all.csv"), [header, ...rows].join("\n"));
    await writeFile(join(dir, "test.csv"), [header, ...rows.slice(0, 3)].join("\n"));
    await writeFile(join(dir, "one.csv"), [header, rows[0]].join("\n"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const flags = (...argv: string[]) => parseFlags(siteSpec, [...base, ...argv]);

  it("holds out the same uniformly drawn rows for the same seed, and others for another", () => {
    // Prepare
    const table = { columns: ["i"], rows: Array.from({ length: 100 }, (_, i) => [String(i)]) };
    // Execute
    const a = splitRows(table, 0.3, 1);
    const b = splitRows(table, 0.3, 1);
    const c = splitRows(table, 0.3, 2);
    // Assert
    expect(a.test.rows).toHaveLength(30);
    expect(a.train.rows).toHaveLength(70);
    expect(b).toEqual(a);
    expect(c.test.rows).not.toEqual(a.test.rows);
    expect([...a.train.rows, ...a.test.rows].map((r) => Number(r[0])).sort((x, y) => x - y)).toEqual(table.rows.map((_, i) => i));
  });

  it("reads --data and splits it, or takes --test as it is", async () => {
    const split = await loadSiteData(flags("--data", join(dir, "all.csv"), "--test-fraction", "0.25"));
    const given = await loadSiteData(flags("--data", join(dir, "all.csv"), "--test", join(dir, "test.csv")));
    expect([split.train.rows.length, split.test.rows.length]).toEqual([15, 5]);
    expect(split.train.columns).toEqual(["age", "chol", "num"]);
    expect([given.train.rows.length, given.test.rows.length]).toEqual([20, 3]);
  });

  it("loads one hospital of the shipped heart-disease data with its FLamby split", async () => {
    const site = await loadSiteData(flags("--dataset-site", "heart-disease:cleveland"));
    expect([site.name, site.train.rows.length, site.test.rows.length]).toEqual(["Cleveland Clinic Foundation", 199, 104]);
    expect((await loadSiteData(flags("--dataset-site", "heart-disease:va"))).name).toBe("VA Medical Center Long Beach");
  });

  it("names the flag when a file cannot be read or is too small to split", async () => {
    await expect(loadSiteData(flags("--data", join(dir, "none.csv")))).rejects.toThrow(/^--data: cannot read .*none\.csv: ENOENT/);
    await expect(loadSiteData(flags("--data", join(dir, "all.csv"), "--test", join(dir, "none.csv")))).rejects.toThrow(/^--test: cannot read /);
    await expect(loadSiteData(flags("--data", join(dir, "one.csv")))).rejects.toThrow(`--data: ${join(dir, "one.csv")} has 1 rows, too few to hold some out`);
  });

  it("waits out an unreachable coordinator for --patience, saying so, then says how to resume", async () => {
    const io = memoryIo({ CONSILIUM_SITE_TOKEN: TOKEN });
    const run = siteCommand(["--coordinator", "http://127.0.0.1:1", "--data", join(dir, "all.csv"), "--backend", "cpu", "--state-dir", join(dir, "state"), "--patience", "1"], { io });
    await expect(run).rejects.toThrow("cannot reach the coordinator at http://127.0.0.1:1 after waiting 1 s (GET http://127.0.0.1:1/v1/task: TypeError: fetch failed (Error: bad port)); start the runner again with the same --state-dir to resume");
    expect(io.errLines[0]).toMatch(/^site zurich-0a1b2c: 14 training and 6 test rows from .*all\.csv; backend cpu; state in /);
    expect(io.errLines.slice(1).length).toBeGreaterThan(1);
    expect(io.errLines.slice(1).every((l) => /GET http:\/\/127\.0\.0\.1:1\/v1\/task: TypeError: fetch failed .*; trying again in \d+\.\d s \(attempt \d+\)$/.test(l))).toBe(true);
  });
});
