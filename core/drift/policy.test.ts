import { describe, expect, it } from "vitest";
import type { DriftFlag } from "./drift-flag.ts";
import { DriftPolicy, driftDecision, driftPolicy } from "./policy.ts";

const flag = (siteId: string, check: DriftFlag["check"], severity: DriftFlag["severity"] = "act"): DriftFlag => ({
  siteId,
  check,
  score: 1,
  severity,
  reason: `${siteId}: ${check}`,
});

describe("DriftPolicy", () => {
  it("fills in the defaults", () => {
    const p = driftPolicy();
    expect([p.psi, p.psiWatch, p.psiGroups, p.shift, p.z, p.prevalenceGap, p.missingGap, p.unitTolerance, p.aurocDrop, p.eceRise]).toEqual([0.25, 0.1, 10, 0.5, 3, 0.05, 0.1, 0.12, 0.05, 0.05]);
    expect(p.trigger).toEqual(["psi", "shift", "prevalence", "auroc", "calibration"]);
    expect(p.exclude).toEqual(["unit"]);
  });

  it("refuses a watch band above the act band and unknown checks, naming each field", () => {
    expect(() => driftPolicy({ psi: 0.1, psiWatch: 0.2 })).toThrow("drift: psiWatch: psiWatch must not exceed psi");
    expect(DriftPolicy.safeParse({ trigger: ["drift"] }).success).toBe(false);
  });
});

describe("driftDecision", () => {
  it("leaves out a site with a unit error, and lets another site's shift trigger a run", () => {
    const flags = [flag("site-3", "unit"), flag("site-3", "psi"), flag("site-2", "psi"), flag("site-1", "missing")];
    expect(driftDecision(flags, driftPolicy())).toEqual({
      trigger: true,
      excludeSites: ["site-3"],
      reasons: ["leave out site-3's new data: site-3: unit", "retrain: site-2: psi"],
    });
  });

  it("does not retrain for flags of a site whose data is left out, nor for watch flags", () => {
    const flags = [flag("site-3", "unit"), flag("site-3", "shift"), flag("site-2", "psi", "watch")];
    expect(driftDecision(flags, driftPolicy())).toEqual({ trigger: false, excludeSites: ["site-3"], reasons: ["leave out site-3's new data: site-3: unit"] });
  });

  it("follows the policy's lists", () => {
    const policy = driftPolicy({ trigger: ["auroc"], exclude: ["unit", "missing"] });
    const flags = [flag("site-1", "missing"), flag("site-2", "psi"), flag("site-4", "auroc")];
    expect(driftDecision(flags, policy)).toEqual({
      trigger: true,
      excludeSites: ["site-1"],
      reasons: ["leave out site-1's new data: site-1: missing", "retrain: site-4: auroc"],
    });
    expect(driftDecision([flag("site-2", "psi")], policy)).toEqual({ trigger: false, excludeSites: [], reasons: [] });
  });
});
