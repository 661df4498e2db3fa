/**
 * A consortium of FHIR hospitals as commands, in one process: `consilium synth` writes two
 * hospitals and the data model, `consilium coordinator --cdm` creates the federation from it, and
 * each hospital's `consilium site --fhir` maps its own resources and trains.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationStatus } from "../../core/schemas/status.ts";
import { coordinatorCommand, type CoordinatorHandle } from "./coordinator-command.ts";
import { enrolCommand } from "./enrol-command.ts";
import { memoryIo, parseFlags } from "./flags.ts";
import { loadSiteData, siteCommand, siteSpec, type SiteResult } from "./site-command.ts";
import { synthCommand } from "./synth-command.ts";

const ADMIN = "integration-admin-token";
const TOKEN = "cs_site-01-0a1b2c_s3cr3t";
const quiet = { ...memoryIo(), out: () => {}, err: () => {} };

describe("consilium site --fhir against consilium coordinator --cdm", () => {
  let dir: string;
  let coordinator: CoordinatorHandle;
  // Site credentials go through the environment, as a hospital passes them.
  const siteEnv: Record<string, string>[] = [{}, {}];
  const siteIo = [memoryIo(siteEnv[0]), memoryIo(siteEnv[1])] as const;
  let results: SiteResult[];
  let status: FederationStatus;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-fhir-commands-"));
    await synthCommand(["--sites", "2", "--patients", "900", "--seed", "3", "--out", join(dir, "cohort")], { io: quiet });
    coordinator = await coordinatorCommand(["--cdm", join(dir, "cohort", "cdm.json"), "--sites", "2", "--rounds", "2", "--port", "0", "--data-dir", join(dir, "coordinator")], {
      io: { ...memoryIo(), env: { CONSILIUM_ADMIN_TOKEN: ADMIN } },
      pollMs: 50,
      cronMs: 200,
    });
    const enrolIo = memoryIo({ CONSILIUM_ADMIN_TOKEN: ADMIN });
    for (const name of ["site-01", "site-02"]) await enrolCommand(["--coordinator", coordinator.url, "--name", name], { io: enrolIo });
    const enrolled = enrolIo.outLines.map((l) => JSON.parse(l) as { siteId: string; token: string });
    results = await Promise.all(
      ["site-01", "site-02"].map((site, i) => {
        // site-01 names the consortium's data model; site-02 relies on the built-in one, the same model.
        siteEnv[i]!.CONSILIUM_SITE_TOKEN = enrolled[i]?.token ?? "";
        return siteCommand(
          ["--coordinator", coordinator.url, "--fhir", join(dir, "cohort", site), ...(i === 0 ? ["--cdm", join(dir, "cohort", "cdm.json")] : []), "--state-dir", join(dir, site), "--backend", "cpu"],
          { io: siteIo[i] },
        );
      }),
    );
    const res = await fetch(`${coordinator.url}/v1/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
    status = FederationStatus.parse(await res.json());
  }, 120_000);

  afterAll(async () => {
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("trains both rounds and evaluates each hospital on its own held-out patients", () => {
    expect(status.state.phase).toBe("done");
    expect(status.roundLog.map((r) => [r.round, r.status, r.updates])).toEqual([[1, "closed", 2], [2, "closed", 2]]);
    for (const r of results) expect(r.evaluation?.testRows).toBeGreaterThan(50);
    expect(status.final?.global.auroc).toBeGreaterThan(0.6);
  });

  it("records the sites' agreement on the data model's features", () => {
    expect(status.features?.quorum).toBe(0.5);
    expect(status.features?.features.map((f) => f.name)).toEqual(["age", "male", "sbp", "chol", "hba1c", "bmi", "smoker", "diabetes"]);
    for (const f of status.features?.features ?? []) expect([f.name, f.used]).toEqual([f.name, true]);
  });

  it("says which data model it used and what mapping found", () => {
    expect(siteIo[0].errLines[0]).toMatch(/^data model .*cdm\.json; .*site-01: \d+ patients, [\d,]+ resources read, [\d,]+ not used/);
    expect(siteIo[1].errLines[0]).toMatch(/^data model built-in \(cardiovascular\); .*site-02: \d+ patients/);
    expect(siteIo[0].errLines[1]).toMatch(/^site site-01-[0-9a-f]{6}: \d+ training and \d+ test rows from .*site-01; backend cpu; /);
  });

  it("names the flag when the FHIR directory or the data model cannot be used", async () => {
    const flags = (...argv: string[]) => parseFlags(siteSpec, ["--coordinator", "http://127.0.0.1:1", "--token", TOKEN, ...argv]);
    await writeFile(join(dir, "bad-cdm.json"), JSON.stringify({ features: [] }));
    await expect(loadSiteData(flags("--fhir", join(dir, "absent")), quiet)).rejects.toThrow(/^--fhir: .*absent holds neither bundle\.json nor any of Patient\.ndjson/);
    await expect(loadSiteData(flags("--fhir", join(dir, "cohort", "site-01"), "--cdm", join(dir, "bad-cdm.json")), quiet)).rejects.toThrow(/^--cdm: .*bad-cdm\.json is not a common data model:/);
    await expect(coordinatorCommand(["--cdm", join(dir, "none.json"), "--port", "0", "--data-dir", join(dir, "unused")], { io: quiet })).rejects.toThrow(/^--cdm: cannot read the data model .*none\.json/);
  });
});
