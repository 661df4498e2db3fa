import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo } from "../cli/commands/flags.ts";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import type { Report } from "../core/schemas/report.ts";

/** The personalisation methods through the whole federation: the sites' choices, and Ditto's model kept across rounds in each state folder. */
describe("consilium simulate --personalization", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-personal-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("makes each site's personal model by the method asked, and says which it kept", async () => {
    // Execute
    const ditto = (await simulateCommand(["--dataset", "heart-disease", "--rounds", "6", "--personalization", "ditto:0.5", "--state-dir", dir, "--quiet"], memoryIo())) as Report;
    const finetune = (await simulateCommand(["--dataset", "heart-disease", "--rounds", "6", "--personalization", "finetune", "--quiet"], memoryIo())) as Report;
    const residual = (await simulateCommand(["--dataset", "heart-disease", "--rounds", "6", "--quiet"], memoryIo())) as Report;
    const fedrepDir = join(dir, "fedrep");
    const fedrep = (await simulateCommand(["--dataset", "heart-disease", "--rounds", "6", "--personalization", "fedrep", "--state-dir", fedrepDir, "--quiet"], memoryIo())) as Report;

    // Assert
    const reasons = (r: Report) => r.runs[0]!.sites.map((s) => s.personalChoice?.reason ?? "");
    expect(reasons(ditto).every((x) => /ditto \(λ 0\.5\)|no Ditto model/.test(x))).toBe(true);
    expect(reasons(ditto).some((x) => x.includes("ditto (λ 0.5)"))).toBe(true);
    expect(reasons(finetune).every((x) => x.includes("finetune of the last layer"))).toBe(true);
    // Each site kept its Ditto model beside its other state, and a chosen model is the global one or its own.
    const folders = (await readdir(dir)).filter((f) => f !== "fedrep");
    expect(folders).toHaveLength(4);
    for (const f of folders) expect(await readdir(join(dir, f))).toContain("ditto.bin");
    // fedrep: every site trained its head every round and kept it; the choice names the method.
    expect(reasons(fedrep).every((x) => x.includes("(fedrep)"))).toBe(true);
    const fedrepFolders = await readdir(fedrepDir);
    expect(fedrepFolders).toHaveLength(4);
    for (const f of fedrepFolders) expect(await readdir(join(fedrepDir, f))).toContain("fedrep-head.bin");
    // The local-only baseline is the same run; the global model is not (the body trained with each site's head in place).
    expect(fedrep.runs[0]!.sites.map((s) => s.accuracy.local)).toEqual(residual.runs[0]!.sites.map((s) => s.accuracy.local));
    for (const s of ditto.runs[0]!.sites) if (s.personalChoice?.kind === "global") expect(s.accuracy.personalized).toBe(s.accuracy.global);
    // The global and local-only models are the same runs whatever the method: only the personal column differs.
    const column = (r: Report, k: "global" | "local") => r.runs[0]!.sites.map((s) => s.accuracy[k]);
    for (const r of [ditto, finetune]) {
      expect(column(r, "global")).toEqual(column(residual, "global"));
      expect(column(r, "local")).toEqual(column(residual, "local"));
    }
  }, 180_000);

  it("refuses a method it does not know, and a Ditto pull that overshoots", async () => {
    await expect(simulateCommand(["--dataset", "heart-disease", "--personalization", "fedper", "--quiet"], memoryIo())).rejects.toThrow("expected residual, fedrep, finetune[:LAYERS] or ditto:LAMBDA");
    // fedrep's head, fitted without noise, shapes each row's gradient of the body: DP-SGD's per-row bound would not hold.
    await expect(simulateCommand(["--dataset", "heart-disease", "--rounds", "2", "--personalization", "fedrep", "--dp-epsilon", "3", "--quiet"], memoryIo())).rejects.toThrow(/fedrep's head/);
    await expect(simulateCommand(["--dataset", "heart-disease", "--rounds", "2", "--personalization", "ditto:5", "--quiet"], memoryIo())).rejects.toThrow(/Ditto's lambda × learningRate must be below 1/);
  });
});
