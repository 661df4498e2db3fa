/**
 * A consortium started from its own CSV columns, as a consortium's IT lead and three hospitals
 * would start it, every step a `consilium` process started from one folder: `federation init`
 * writes the FederationConfig from the lead hospital's header and the data dictionary,
 * `coordinator --federation` serves it, `enrol` gives each hospital its credential, and three
 * `site` processes, each exporting its CSV its own way (other column names, semicolons and decimal
 * commas, a unit in the cells, tabs and gzip), map their columns onto the consortium's and train
 * to the end. Loopback only; every wait is bounded.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationConfig } from "../core/schemas/federation.ts";

const CLI = fileURLToPath(new URL("../bin/consilium.mjs", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../examples/consortium/", import.meta.url));
const ADMIN = randomBytes(24).toString("base64url");
const LIMIT_MS = 240_000;

interface Exit {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs `consilium ARGS` in `cwd` to its end (or kills it at the limit). */
function consilium(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (b: Buffer) => (out += b.toString()));
    proc.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), LIMIT_MS);
    proc.once("error", reject);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe("a consortium from its data dictionary: federation init, coordinator and three site processes from one folder", () => {
  let dir: string;
  let stopCoordinator: () => Promise<void> = async () => undefined;
  let url = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-consortium-"));
  });
  afterAll(async () => {
    await stopCoordinator();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the federation from the lead hospital's header and the dictionary, reading no row", async () => {
    // Execute
    const init = await consilium(dir, ["federation", "init", "--data", join(EXAMPLE, "cleveland.csv"), "--dictionary", join(EXAMPLE, "dictionary.csv"), "--sites", "3", "--rounds", "4", "--id", "heart-consortium"]);

    // Assert
    expect(init.err).toContain("no data row was read");
    expect(init.code).toBe(0);
    const config = FederationConfig.parse(JSON.parse(await readFile(join(dir, "federation.json"), "utf8")));
    expect(config.features.label).toEqual({ column: "num", positiveAbove: 0 });
    expect(config.features.features.map((f) => f.name)).toEqual(["age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak"]);
    expect(config.features.features.find((f) => f.name === "chol")).toMatchObject({ unit: "mg/dL", range: { min: 80, max: 700 }, missing: ["0"], impute: "median" });
    expect(init.out).toContain("wrote federation.json; start the coordinator with: consilium coordinator --federation federation.json");
  });

  it("trains three hospitals that name, separate and write their columns differently, each in its own state folder", async () => {
    // Prepare: the coordinator, then one credential per hospital.
    const coordinator = spawn(process.execPath, [CLI, "coordinator", "--federation", "federation.json", "--port", "0"], { cwd: dir, env: { ...process.env, CONSILIUM_ADMIN_TOKEN: ADMIN }, stdio: ["ignore", "ignore", "pipe"] });
    stopCoordinator = () =>
      new Promise((resolve) => {
        if (coordinator.exitCode !== null) return resolve();
        coordinator.once("exit", () => resolve());
        coordinator.kill("SIGTERM");
      });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the coordinator did not start listening")), 60_000);
      createInterface({ input: coordinator.stderr }).on("line", (line) => {
        const m = /coordinator listening on (http:\/\/\S+)/.exec(line);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      coordinator.once("exit", (code) => reject(new Error(`the coordinator exited (${code})`)));
    });
    const hospitals = [
      { name: "cleveland", data: "cleveland.csv", map: [] },
      { name: "hungarian", data: "hungarian.csv", map: ["--map-file", join(EXAMPLE, "hungarian-map.csv")] },
      { name: "va", data: "va.tsv.gz", map: ["--map-file", join(EXAMPLE, "va-map.csv")] },
    ];
    // A wrong admin token is told it is wrong.
    const wrong = await consilium(dir, ["enrol", "--coordinator", url, "--name", "intruder"], { CONSILIUM_ADMIN_TOKEN: "not-the-admin-token-at-all" });
    expect(wrong.code).toBe(1);
    expect(wrong.err.trim()).toBe("consilium: FORBIDDEN: wrong admin token: this is not the coordinator's admin token");
    const tokens: string[] = [];
    for (const h of hospitals) {
      const enrolled = await consilium(dir, ["enrol", "--coordinator", url, "--name", h.name], { CONSILIUM_ADMIN_TOKEN: ADMIN });
      expect(enrolled.code, enrolled.err).toBe(0);
      tokens.push((JSON.parse(enrolled.out) as { token: string }).token);
    }

    // Execute: three runners at once, from the one folder, none given a --state-dir.
    const runs = await Promise.all(hospitals.map((h, i) => consilium(dir, ["site", "--coordinator", url, "--data", join(EXAMPLE, h.data), ...h.map, "--backend", "cpu"], { CONSILIUM_SITE_TOKEN: tokens[i] ?? "" })));

    // Assert: every hospital trained to the end and printed its evaluation.
    for (const [i, run] of runs.entries()) {
      expect(run.code, `${hospitals[i]?.name}: ${run.err}`).toBe(0);
      expect(run.out).toMatch(/^evaluation of model v\d+ on \d+ test rows \(trained on \d+\):$/m);
      expect(run.out).toMatch(/^ {2}personalized +accuracy \d\.\d{3} \(\d\.\d\d–\d\.\d\d\)/m);
      // The label rule is said, and no consortium column went unmapped.
      expect(run.err).toMatch(/^label num: positive = num > 0: \d+ of \d+ labelled rows \(\d+\.\d %\)$/m);
      expect(run.err).not.toContain("not in this site's rows");
    }
    const [, hungarian, va] = runs;
    // How each export was read is said: delimiter, decimal commas, the unit, gzip.
    expect(hungarian?.err).toContain("hungarian.csv: semicolon-separated");
    expect(hungarian?.err).toContain("hungarian.csv: decimal commas read as points in st_depression");
    expect(hungarian?.err).toContain("hungarian.csv: column cholesterol carries the unit mg/dL in every value: read as numbers in mg/dL");
    expect(va?.err).toContain("va.tsv.gz: gzip-compressed, tab-separated");
    // Plain numbers are taken to be in the dictionary's units, and said to be; Budapest wrote its cholesterol's.
    expect(runs[0]?.err).toContain("plain numbers taken to be in the consortium's units: age in years, trestbps in mm Hg, chol in mg/dL, thalach in bpm, oldpeak in mm");
    expect(hungarian?.err).toContain("plain numbers taken to be in the consortium's units: age in years, trestbps in mm Hg, thalach in bpm, oldpeak in mm");
    // One state folder per site, under the folder they were started from.
    const siteIds = tokens.map((t) => /^cs_([a-z0-9-]+)_/.exec(t)?.[1]);
    const folders = await readdir(join(dir, ".consilium", "site"));
    expect(folders.sort()).toEqual([...siteIds].sort());
  }, 300_000);
});
