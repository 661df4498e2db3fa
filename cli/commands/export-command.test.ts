import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { seededRandom } from "../../core/random.ts";
import { lockFolder } from "../../gpu-runner/session/folder-lock.ts";
import { savePersonalModel } from "../../gpu-runner/session/site-state.ts";
import { recordPersonalModel } from "../../gpu-runner/session/state-owner.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { usageOf } from "../../test/support/cli.ts";
import { exportCommand, exportSpec } from "./export-command.ts";
import { memoryIo, parseFlags } from "./flags.ts";

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(exportSpec, argv, env);
const TOKEN = "cs_site-01_s3cr3t";

/** A state folder as `consilium site` leaves it after the federation: the personal model at `version`, marked as `siteId`'s. */
async function siteState(dir: string, siteId: string, version: number, federation?: string): Promise<void> {
  const [site] = syntheticSites({ sites: 1, trainRows: 40, testRows: 10, seed: 3 });
  const preprocessing = mergeSiteStats([computeSiteStats(site?.train ?? { columns: [], rows: [] }, syntheticSpec)], syntheticSpec);
  const spec = parseModelSpec("logreg");
  const layout = modelLayout(spec, preprocessing.inputs.length);
  const meta = { modelVersion: version, spec, layout, preprocessing, savedAt: "2025-05-01T10:00:00.000Z" };
  await savePersonalModel(dir, { meta, body: initBody(layout, seededRandom(1)), head: new Float32Array(layout.headSize) });
  await recordPersonalModel(dir, siteId, federation === undefined ? undefined : { federation, modelVersion: version });
}

const metadata = async (out: string) => (JSON.parse(await readFile(join(out, "model.json"), "utf8")) as { userDefinedMetadata: { consilium: Record<string, unknown> } }).userDefinedMetadata.consilium;

describe("consilium site export: flags", () => {
  it("takes --out, and picks the site by --site, --token or CONSILIUM_SITE_TOKEN, or the state dir as given", () => {
    expect(parseFlags(exportSpec, ["--out", "model"])).toEqual({ out: "model" });
    expect(parseFlags(exportSpec, ["--site", "site-01", "--out", "model"])).toEqual({ site: "site-01", out: "model" });
    expect(parseFlags(exportSpec, ["--out", "model"], { CONSILIUM_SITE_TOKEN: TOKEN })).toEqual({ token: TOKEN, out: "model" });
    expect(parseFlags(exportSpec, ["--state-dir", "s", "--out", "model"])).toEqual({ "state-dir": "s", out: "model" });
  });

  it("refuses missing and unknown flags, a bad site id, and a --site the token does not name, with one line", () => {
    expect(usage([])).toBe("--out: required");
    expect(usage(["--out", ""])).toBe("--out: must not be empty");
    expect(usage(["--out", "m", "--data", "x"])).toBe("unknown flag --data");
    expect(usage(["--out", "m", "--site", "Site 1"])).toBe('--site: expected a site id (lower-case letters, digits and dashes), as consilium enrol prints it (got "Site 1")');
    expect(usage(["--out", "m", "--token", "abc"])).toBe("--token: expected a site credential cs_<siteId>_<secret>, as consilium enrol prints it");
    expect(usage(["--out", "m", "--site", "site-02"], { CONSILIUM_SITE_TOKEN: TOKEN })).toBe("--site and the site of --token (or CONSILIUM_SITE_TOKEN) differ: give one");
  });
});

describe("consilium site export: which site", () => {
  const home = process.cwd();
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-export-"))));
  afterEach(() => process.chdir(home));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A working folder where `consilium site` ran for `sites`. */
  const workFolder = async (name: string, sites: readonly string[]) => {
    const work = join(dir, name);
    for (const [i, site] of sites.entries()) await siteState(join(work, ".consilium", "site", site), site, 10 + i, `fed-${i}`);
    await mkdir(work, { recursive: true });
    process.chdir(work);
    return join(process.cwd(), ".consilium", "site");
  };

  it("exports the site --site or the token names, saying which site, model version and federation it wrote, and where", async () => {
    // Prepare
    await workFolder("two", ["site-01", "site-02"]);
    const [bySite, byToken] = [memoryIo(), memoryIo({ CONSILIUM_SITE_TOKEN: TOKEN })];
    // Execute
    const second = await exportCommand(["--site", "site-02", "--out", "out-02"], { io: bySite });
    const first = await exportCommand(["--out", "out-01"], { io: byToken });
    // Assert
    const out = join(process.cwd(), "out-02");
    expect(bySite.errLines).toEqual([`exported site site-02: personalized model v11 of federation fed-1, to ${out}`]);
    expect(bySite.outLines).toEqual(["model.json", "weights.bin", "preprocessing.json"].map((f) => join(out, f)));
    expect(byToken.errLines).toEqual([`exported site site-01: personalized model v10 of federation fed-0, to ${join(process.cwd(), "out-01")}`]);
    expect([second.siteId, second.modelVersion, second.federation, first.siteId, first.modelVersion]).toEqual(["site-02", 11, "fed-1", "site-01", 10]);
    expect(await metadata(out)).toEqual({ siteId: "site-02", modelVersion: 11, federation: "fed-1", exportedAt: second.exportedAt, model: expect.anything(), inputs: expect.anything() });
    expect(Date.parse(second.exportedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses to pick one of several sites unasked, listing them", async () => {
    // Prepare
    const root = await workFolder("three", ["site-01", "site-02", "site-03"]);
    // Execute
    const refused = exportCommand(["--out", "out"], { io: memoryIo() });
    // Assert
    await expect(refused).rejects.toThrow(`${root} holds the state of 3 sites (site-01, site-02, site-03): give --site ID or --token to pick one`);
  });

  it("exports the only site there is, saying which", async () => {
    // Prepare
    const root = await workFolder("one", ["site-03"]);
    const io = memoryIo();
    // Execute
    await exportCommand(["--out", "out"], { io });
    // Assert
    expect(io.errLines).toEqual([
      `site site-03: the only site state folder under ${root} (--site ID picks one)`,
      `exported site site-03: personalized model v10 of federation fed-0, to ${join(process.cwd(), "out")}`,
    ]);
  });

  it("says what to do when there is no state, or only state in the layout of an earlier version", async () => {
    // Prepare
    const empty = await workFolder("none", []);
    await expect(exportCommand(["--out", "out"], { io: memoryIo() })).rejects.toThrow(`no site state under ${empty}: run consilium site first, or give --state-dir DIR`);
    await expect(exportCommand(["--site", "site-09", "--out", "out"], { io: memoryIo() })).rejects.toThrow(`no state of site site-09 in ${join(empty, "site-09")}: run consilium site with its credential first, or give --state-dir DIR`);
    const earlier = join(dir, "earlier", ".consilium", "site");
    await siteState(earlier, "site-01", 3);
    await rm(join(earlier, "site.json"));
    process.chdir(join(dir, "earlier"));
    const root = join(process.cwd(), ".consilium", "site");
    // Execute
    const refused = await exportCommand(["--out", "out"], { io: memoryIo() }).then(() => null, (e: Error) => e.message);
    const io = memoryIo();
    const named = await exportCommand(["--state-dir", ".consilium/site", "--out", "out"], { io });
    // Assert
    expect(refused).toBe(`${root} holds state in the layout of an earlier version, directly in it: give --state-dir ${root} to read it`);
    expect(io.errLines).toEqual([`exported a site not named by its state folder (give --site ID to name it): personalized model v3, to ${join(process.cwd(), "out")}`]);
    expect(await metadata(join(process.cwd(), "out"))).not.toHaveProperty("siteId");
    expect(named.siteId).toBeNull();
  });

  it("refuses a --state-dir that is another site's, and says so when a runner is still at work on the folder", async () => {
    // Prepare
    const state = join(dir, "running");
    await siteState(state, "site-01", 7, "fed-x");
    const lock = await lockFolder(state, { rule: "one site runner per state folder", command: "consilium site --dataset-site heart-disease:va" });
    const io = memoryIo();
    try {
      // Execute
      const refused = await exportCommand(["--state-dir", state, "--site", "site-02", "--out", join(dir, "x")], { io: memoryIo() }).then(() => null, (e: Error) => e.message);
      const written = await exportCommand(["--state-dir", state, "--out", join(dir, "running-out")], { io });
      // Assert
      expect(refused).toBe(`${state} holds the state of site site-01, not of site site-02: each site keeps its own state folder`);
      expect(io.errLines[0]).toMatch(new RegExp(`^process ${process.pid} \\(consilium site --dataset-site heart-disease:va\\) on host ${hostname()} since \\S+ is running on ${state}: exporting the last model it saved$`));
      expect(written.siteId).toBe("site-01");
    } finally {
      await lock.release();
    }
  });

  it("says so when the state dir holds no personal model", async () => {
    const state = join(dir, "fresh");
    await mkdir(state);
    await expect(exportCommand(["--state-dir", state, "--out", join(state, "out")], { io: memoryIo() })).rejects.toThrow(
      `no personal model in ${state}: run consilium site until the federation finishes first`,
    );
  });
});
