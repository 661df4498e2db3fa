import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { memoryIo, parseFlags } from "./flags.ts";
import { splitRows } from "../../gpu-runner/data/site-data.ts";
import { loadSiteData, siteCommand, siteSpec } from "./site-command.ts";
import { usageOf } from "../../test/support/cli.ts";
import { deadPid, holdInChild } from "../../test/support/lock-holder.ts";

const TOKEN = "cs_zurich-0a1b2c_s3cr3t-with_dashes";
const base = ["--coordinator", "http://127.0.0.1:8787", "--token", TOKEN];

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(siteSpec, argv, env);

describe("consilium site: flags", () => {
  it("takes a CSV with defaults for the split and the seed (the state dir's default needs the site id: siteStateDir)", () => {
    expect(parseFlags(siteSpec, [...base, "--data", "rows.csv"])).toEqual({
      coordinator: "http://127.0.0.1:8787", token: TOKEN, data: "rows.csv", seed: 1, patience: 1800, "min-rows": 30, follow: false, "pull-every": 60, "check-in-every": 3600, verbose: false,
    });
  });

  it("takes every flag, and the token from the environment", () => {
    // Execute
    const flags = parseFlags(siteSpec, ["--coordinator", "https://fl.example.org", "--data", "a.csv", "--test-fraction", "0.2", "--seed", "7", "--state-dir", "s", "--backend", "cpu", "--verbose"], { CONSILIUM_SITE_TOKEN: TOKEN, CONSILIUM_PATIENCE: "60" });
    const shipped = parseFlags(siteSpec, [...base, "--dataset-site", "heart-disease:va"]);
    // Assert
    expect(flags).toEqual({ coordinator: "https://fl.example.org", token: TOKEN, data: "a.csv", "test-fraction": 0.2, seed: 7, "state-dir": "s", patience: 60, backend: "cpu", "min-rows": 30, follow: false, "pull-every": 60, "check-in-every": 3600, verbose: true });
    expect(shipped["dataset-site"]).toBe("heart-disease:va");
  });

  it("refuses bad values and combinations with one line naming the flag", () => {
    expect(usage(["--data", "a.csv"])).toBe("--coordinator: required");
    expect(usage(["--coordinator", "http://h:1", "--data", "a.csv"])).toBe("--token (or CONSILIUM_SITE_TOKEN): required");
    expect(usage(["--coordinator", "http://h:1", "--data", "a.csv"], { CONSILIUM_SITE_TOKEN: "abc" })).toBe("CONSILIUM_SITE_TOKEN: expected a site credential cs_<siteId>_<secret> (cs_<siteId>.<n>_<secret> after a rotation), as consilium enrol or consilium sites rotate prints it");
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

  it("renames its columns onto the consortium's with --map or --map-file, and refuses a mapping that does not fit the file", async () => {
    // Prepare
    await writeFile(join(dir, "own.csv"), ["age;cholesterol;diagnosis", ...rows.map((r) => r.replaceAll(",", ";"))].join("\n"));
    await writeFile(join(dir, "map.csv"), "local,consortium\ncholesterol,chol\ndiagnosis,num\n");
    await writeFile(join(dir, "bad-map.csv"), "from,to\ncholesterol,chol\n");
    const own = join(dir, "own.csv");
    const io = memoryIo();

    // Execute
    const mapped = await loadSiteData(flags("--data", own, "--map", "cholesterol=chol, diagnosis=num"), io);
    const fromFile = await loadSiteData(flags("--data", own, "--map-file", join(dir, "map.csv")), memoryIo());

    // Assert
    expect(mapped.train.columns).toEqual(["age", "chol", "num"]);
    expect(fromFile.train.columns).toEqual(["age", "chol", "num"]);
    expect(io.errLines).toEqual([`${own}: semicolon-separated`]);
    await expect(loadSiteData(flags("--data", own, "--map", "cholesterl=chol"))).rejects.toThrow(`--map: ${own} has no column "cholesterl" (columns: age, cholesterol, diagnosis)`);
    await expect(loadSiteData(flags("--data", own, "--map", "cholesterol=age"))).rejects.toThrow(`--map: "age" would name two columns of ${own}: it is already a column there; map that one too, or choose another`);
    await expect(loadSiteData(flags("--data", own, "--map", "cholesterol=chol,diagnosis=chol"))).rejects.toThrow('--map: two columns are mapped onto "chol"');
    await expect(loadSiteData(flags("--data", own, "--map", "cholesterol"))).rejects.toThrow('--map: expected LOCAL=CONSORTIUM pairs, e.g. cholesterol=chol (got "cholesterol")');
    await expect(loadSiteData(flags("--data", own, "--map-file", join(dir, "bad-map.csv")))).rejects.toThrow(`--map-file: ${join(dir, "bad-map.csv")} needs the columns local and consortium (has from, to)`);
    expect(usage([...base, "--dataset-site", "heart-disease:va", "--map", "a=b"])).toBe("--map and --map-file rename the columns of --data");
  });

  it("waits out an unreachable coordinator for --patience, saying so, then says how to resume", async () => {
    const io = memoryIo({ CONSILIUM_SITE_TOKEN: TOKEN });
    const run = siteCommand(["--coordinator", "http://127.0.0.1:1", "--data", join(dir, "all.csv"), "--backend", "cpu", "--state-dir", join(dir, "state"), "--patience", "1"], { io });
    await expect(run).rejects.toThrow("cannot reach the coordinator at http://127.0.0.1:1 after waiting 1 s (GET http://127.0.0.1:1/v1/task: TypeError: fetch failed (Error: bad port)); start the runner again with the same --state-dir to resume");
    expect(io.errLines[0]).toMatch(/^site zurich-0a1b2c: 14 training and 6 test rows from .*all\.csv; backend cpu; state in /);
    expect(io.errLines[1]).toBe("warn site zurich-0a1b2c has 14 training and 6 test rows, fewer than 30 training and test rows: its figures are uncertain (read their 95 % intervals) and may mislead");
    expect(io.errLines.slice(2).length).toBeGreaterThan(1);
    expect(io.errLines.slice(2).every((l) => /GET http:\/\/127\.0\.0\.1:1\/v1\/task: TypeError: fetch failed .*; trying again in \d+\.\d s \(attempt \d+\)$/.test(l))).toBe(true);
  });
});

describe("consilium site: its state folder", () => {
  const OTHER = "cs_basel-9f8e7d_an0th3r";
  const home = process.cwd();
  let dir: string;
  let csv: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-site-state-"));
    csv = join(dir, "all.csv");
    await writeFile(csv, ["age,chol,num", ...Array.from({ length: 20 }, (_, i) => `${40 + i},${200 + i},${i % 2}`)].join("\n"));
  });
  afterEach(() => process.chdir(home));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A runner against a coordinator that is not there: it gets as far as its state folder, then gives up after --patience. */
  const run = (token: string, argv: string[], signal?: AbortSignal) => {
    const io = memoryIo({ CONSILIUM_SITE_TOKEN: token });
    const result = siteCommand(["--coordinator", "http://127.0.0.1:1", "--data", csv, "--backend", "cpu", "--patience", "0", ...argv], { io, signal });
    return { io, result: result.then(() => "finished", (e: Error) => e.message) };
  };
  const unreachable = "cannot reach the coordinator at http://127.0.0.1:1 after waiting 0 s (GET http://127.0.0.1:1/v1/task: TypeError: fetch failed (Error: bad port)); start the runner again with the same --state-dir to resume";

  it("keeps each site's state in its own folder under .consilium/site by default, and lets go of it when the runner fails", async () => {
    // Prepare: two hospitals' runners started from one folder.
    const work = join(dir, "one-folder");
    await mkdir(work);
    process.chdir(work);
    // Execute
    const zurich = run(TOKEN, []);
    const basel = run(OTHER, []);
    const outcomes = await Promise.all([zurich.result, basel.result]);
    // Assert
    const root = join(process.cwd(), ".consilium", "site");
    expect(outcomes).toEqual([unreachable, unreachable]);
    expect(zurich.io.errLines[0]).toMatch(new RegExp(`; state in ${join(root, "zurich-0a1b2c")}$`));
    expect(basel.io.errLines[0]).toMatch(new RegExp(`; state in ${join(root, "basel-9f8e7d")}$`));
    expect(await readdir(root)).toEqual(["basel-9f8e7d", "zurich-0a1b2c"]);
    // Each folder is marked as its site's, and no lock is left behind.
    expect(await readdir(join(root, "zurich-0a1b2c"))).toEqual(["site.json"]);
    expect(JSON.parse(await readFile(join(root, "basel-9f8e7d", "site.json"), "utf8"))).toEqual({ siteId: "basel-9f8e7d" });
  });

  it("refuses a folder another runner holds, naming that process", async () => {
    // Prepare
    const state = join(dir, "held");
    await mkdir(state);
    const other = await holdInChild(state, ["site", "--token", TOKEN, "--dataset-site", "heart-disease:va"]);
    try {
      // Execute
      const refused = await run(TOKEN, ["--state-dir", state]).result;
      // Assert
      expect(refused).toMatch(new RegExp(
        `^${state} is in use by process ${other.pid} \\(consilium site --token \\*\\*\\* --dataset-site heart-disease:va\\) on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, ` +
          `which is still running: one site runner per state folder \\(if pid ${other.pid} is some other program now, delete ${join(state, "lock")}\\)$`,
      ));
    } finally {
      await other.stop();
    }
  });

  it("takes over the lock a killed runner left, with a warning, and lets go of it when stopped (SIGINT)", async () => {
    // Prepare
    const state = join(dir, "killed");
    await mkdir(state);
    const pid = await deadPid();
    await writeFile(join(state, "lock"), JSON.stringify({ pid, host: hostname(), since: "2025-05-01T10:00:00.000Z", command: "consilium site --data a.csv", token: "t" }));
    const controller = new AbortController();
    // Execute: a runner waiting out its coordinator, stopped once it holds the folder.
    const runner = run(TOKEN, ["--state-dir", state, "--patience", "600"], controller.signal);
    while (!(await readFile(join(state, "lock"), "utf8").catch(() => "")).includes(`"pid":${process.pid}`)) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await runner.result;
    // Assert
    expect(runner.io.errLines).toContain(`warn took over the lock of ${state} from process ${pid} (consilium site --data a.csv) on host ${hostname()} since 2025-05-01T10:00:00.000Z: process ${pid} is no longer running`);
    expect(await readdir(state)).toEqual(["site.json"]);
  });

  it("refuses another site's state folder", async () => {
    // Prepare
    const state = join(dir, "basel");
    await mkdir(state);
    await writeFile(join(state, "site.json"), JSON.stringify({ siteId: "basel-9f8e7d" }));
    // Execute
    const refused = await run(TOKEN, ["--state-dir", state]).result;
    // Assert
    expect(refused).toBe(`${state} holds the state of site basel-9f8e7d, not of site zurich-0a1b2c: each site keeps its own state folder`);
    expect(await readdir(state)).toEqual(["site.json"]);
  });

  it("refuses state an earlier version left directly in .consilium/site, saying how to move it, and uses it when named", async () => {
    // Prepare
    const work = join(dir, "earlier");
    const root = join(work, ".consilium", "site");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "personal.json"), "{}");
    await writeFile(join(root, "privacy-ledger.json"), "{}");
    process.chdir(work);
    // Execute
    const refused = await run(TOKEN, []).result;
    const named = await run(TOKEN, ["--state-dir", ".consilium/site"]).result;
    // Assert
    const at = join(process.cwd(), ".consilium", "site");
    expect(refused).toBe(
      `${at} holds state in the layout of an earlier version (personal.json, privacy-ledger.json); state is now kept per site, in ${at}/<site-id>. ` +
        `If it is this site's, move it: (cd ${at} && mkdir zurich-0a1b2c && mv personal.json privacy-ledger.json zurich-0a1b2c/). ` +
        `If several sites ran from this folder it mixes their state: remove those files. Or give --state-dir ${at} to go on using it as it is`,
    );
    expect(named).toBe(unreachable);
  });
});
