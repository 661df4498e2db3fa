/**
 * The commands a consortium runs, in one process: `consilium coordinator` on the embedded store,
 * two hospitals enrolled with `consilium enrol`, their `consilium site` runners on the shipped
 * heart-disease split, and `consilium site export` of one personal model.
 */
import { readFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationStatus } from "../../core/schemas/status.ts";
import { coordinatorCommand, type CoordinatorHandle } from "./coordinator-command.ts";
import { enrolCommand } from "./enrol-command.ts";
import { exportCommand } from "./export-command.ts";
import { memoryIo } from "./flags.ts";
import { siteCommand, type SiteResult } from "./site-command.ts";

const ADMIN = "integration-admin-token";

describe("coordinator, enrol, site and site export as commands", () => {
  let dir: string;
  let coordinator: CoordinatorHandle;
  const coordinatorIo = memoryIo();
  // Site credentials go through the environment, as a hospital passes them.
  const siteEnv: Record<string, string>[] = [{}, {}];
  const siteIo = [memoryIo(siteEnv[0]), memoryIo(siteEnv[1])] as const;
  let enrolled: { siteId: string; token: string }[];
  let results: SiteResult[];
  let status: FederationStatus;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-commands-"));
    coordinator = await coordinatorCommand(["--dataset", "heart-disease", "--sites", "2", "--rounds", "2", "--port", "0", "--data-dir", join(dir, "coordinator")], {
      io: { ...coordinatorIo, env: { CONSILIUM_ADMIN_TOKEN: ADMIN } },
      pollMs: 50,
      cronMs: 200,
    });
    const enrolIo = memoryIo({ CONSILIUM_ADMIN_TOKEN: ADMIN });
    await enrolCommand(["--coordinator", coordinator.url, "--name", "Cleveland"], { io: enrolIo });
    await enrolCommand(["--coordinator", coordinator.url, "--name", "Hungarian"], { io: enrolIo });
    enrolled = enrolIo.outLines.map((l) => JSON.parse(l) as { siteId: string; token: string });
    results = await Promise.all(
      (["cleveland", "hungarian"] as const).map((site, i) => {
        siteEnv[i]!.CONSILIUM_SITE_TOKEN = enrolled[i]?.token ?? "";
        return siteCommand(
          ["--coordinator", coordinator.url, "--dataset-site", `heart-disease:${site}`, "--state-dir", join(dir, site), "--backend", "cpu"],
          { io: siteIo[i] },
        );
      }),
    );
    const res = await fetch(`${coordinator.url}/v1/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
    status = FederationStatus.parse(await res.json());
  });

  afterAll(async () => {
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("enrols each site with a credential that carries its id", () => {
    expect(enrolled).toHaveLength(2);
    expect(enrolled[0]?.siteId).toMatch(/^cleveland-[0-9a-f]{6}$/);
    for (const e of enrolled) expect(e.token.startsWith(`cs_${e.siteId}_`)).toBe(true);
    expect(coordinatorIo.errLines).toEqual([
      expect.stringMatching(/^coordinator listening on http:\/\/127\.0\.0\.1:\d+ \(federation heart-disease created; /),
      expect.stringMatching(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard /),
    ]);
  });

  it("finishes the federation with an evaluation from both sites", () => {
    expect(status.state.phase).toBe("done");
    expect(status.rounds).toBe(2);
    expect(status.evaluations.map((e) => e.siteId).sort()).toEqual(enrolled.map((e) => e.siteId).sort());
    expect(status.roundLog.map((r) => [r.round, r.status, r.updates])).toEqual([[1, "closed", 2], [2, "closed", 2]]);
    expect(results.map((r) => [r.siteId, r.backend, r.evaluation?.testRows])).toEqual([
      [enrolled[0]?.siteId, "cpu", 104],
      [enrolled[1]?.siteId, "cpu", 89],
    ]);
  });

  it("prints the backend, one line per round and the site's evaluation", () => {
    const [cleveland] = siteIo;
    expect(cleveland.errLines).toEqual([
      expect.stringMatching(/^site cleveland-[0-9a-f]{6}: 199 training and 104 test rows from Cleveland Clinic Foundation; backend cpu; state in /),
      "sent feature statistics of 199 labelled training rows",
      expect.stringMatching(/^label num: positive = num > 0: \d+ of 199 labelled rows \(\d+\.\d %\)$/),
      "no missing values in the features",
      expect.stringMatching(/^round 1\/2: trained, loss \d\.\d{4}, \d+ bytes up$/),
      expect.stringMatching(/^round 2\/2: trained, loss \d\.\d{4}, \d+ bytes up$/),
    ]);
    expect(cleveland.outLines).toEqual([
      "evaluation of model v2 on 104 test rows (trained on 199):",
      expect.stringMatching(/^ {2}global {8}accuracy 0\.\d{3} \(0\.\d\d–[01]\.\d\d\) {2}AUROC 0\.\d{3} \(0\.\d\d–[01]\.\d\d\) {2}sensitivity 0\.\d{3} \(0\.\d\d–[01]\.\d\d\) {2}specificity 0\.\d{3} \(0\.\d\d–[01]\.\d\d\)$/),
      expect.stringMatching(/^ {2}personalized {2}accuracy 0\.\d{3} /),
      expect.stringMatching(/^ {2}local only {4}accuracy 0\.\d{3} /),
      "  (lo–hi): 95 % interval over these 104 test rows (Wilson; DeLong on the logit scale for AUROC)",
    ]);
  });

  it("exports a site's personal model as model.json + weights.bin", async () => {
    // Prepare
    const out = join(dir, "export");
    const io = memoryIo();
    // Execute
    const { files } = await exportCommand(["--state-dir", join(dir, "cleveland"), "--out", out], { io });
    // Assert
    expect(io.outLines).toEqual([join(out, "model.json"), join(out, "weights.bin"), join(out, "preprocessing.json")]);
    expect(files).toEqual(io.outLines);
    // The runner recorded whose state it is and the federation of the model it saved.
    expect(io.errLines).toEqual([`exported site ${enrolled[0]?.siteId}: personalized model v2 of federation heart-disease, to ${out}`]);
    const model = JSON.parse(await readFile(join(out, "model.json"), "utf8")) as { weightsManifest: { paths: string[] }[]; userDefinedMetadata: { consilium: object } };
    expect(model.weightsManifest[0]?.paths).toEqual(["weights.bin"]);
    expect(model.userDefinedMetadata.consilium).toMatchObject({ siteId: enrolled[0]?.siteId, modelVersion: 2, federation: "heart-disease" });
    expect((await stat(join(out, "weights.bin"))).size).toBeGreaterThan(0);
  });
});
