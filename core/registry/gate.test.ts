import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvalCounts } from "../metrics/eval-counts.ts";
import { decidePromotion, type PromotionInput } from "./gate.ts";
import { GateDecision, type GateRuleName } from "./gate-decision.ts";
import { GatePolicy } from "./gate-policy.ts";
import { evaluateCounts } from "./model-evaluation.ts";

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Counts from histograms over an even number of bins: the upper half is predicted positive. */
function counts(pos: number[], neg: number[]): EvalCounts {
  const half = pos.length / 2;
  const tp = sum(pos.slice(half));
  const fp = sum(neg.slice(half));
  return EvalCounts.parse({ n: sum(pos) + sum(neg), tp, fn: sum(pos) - tp, fp, tn: sum(neg) - fp, pos, neg });
}

/** The same rows with every score s scored 1 − s: a model whose sign flipped at the site. */
const reversed = (c: EvalCounts) => counts([...c.pos].reverse(), [...c.neg].reverse());

// 4 bins (centres 0.125, 0.375, 0.625, 0.875), 100 positives and 100 negatives:
// AUROC (5·25 + 15·65 + 30·87.5 + 50·97.5) / 10⁴ = 0.86, sensitivity 0.8 at 0.5.
const champion = () => counts([5, 15, 30, 50], [50, 30, 15, 5]);
/** The champion's site with `k` positives moved from the top bin to the next: AUROC 0.86 − 0.001·k. */
const lower = (k: number) => counts([5, 15, 30 + k, 50 - k], [50, 30, 15, 5]);

const rule = (decision: GateDecision, name: GateRuleName) => decision.rules.find((r) => r.rule === name)!;

describe("GatePolicy", () => {
  it("fills in the defaults", () => {
    // Execute / Assert
    expect(GatePolicy.parse({})).toEqual({
      aurocMargin: 0.005, sensitivityDrop: 0.05, threshold: 0.5, minPositives: 20, eceMargin: 0.02, replaceDegraded: true,
    });
  });

  it("refuses a negative margin and a threshold of 1", () => {
    // Execute / Assert
    expect(GatePolicy.safeParse({ aurocMargin: -0.1 }).success).toBe(false);
    expect(GatePolicy.safeParse({ threshold: 1 }).success).toBe(false);
  });
});

describe("decidePromotion: a first version", () => {
  it("is promoted when its AUROC and its interval's lower bound are above 0.5", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: champion(), b: champion() }, champion: null });

    // Assert
    const [lo, hi] = decision.candidate.aurocInterval!;
    expect(decision.promote).toBe(true);
    expect(decision.reason).toBe(`promoted: pooled AUROC 0.860 with 95 % interval ${lo.toFixed(3)}–${hi.toFixed(3)}, above chance (0.5)`);
    expect(decision.rules.find((r) => r.rule === "within-site")).toMatchObject({ passed: true, reason: expect.stringMatching(/^AUROC within sites 0\.860 \(lower 95 % bound 0\.\d{3}\), above chance$/) });
    expect(lo).toBeGreaterThan(0.5);
    expect(decision.rules.map((r) => r.rule)).toEqual(["chance", "within-site"]);
    expect(decision.champion).toBeNull();
    expect(GateDecision.safeParse(decision).success).toBe(true);
  });

  it("is not promoted when its interval reaches below 0.5, however good its AUROC", () => {
    // Prepare: two positives and two negatives, AUROC (1.5 + 2) / 4 = 0.875.
    const candidate = { a: counts([0, 0, 1, 1], [1, 0, 1, 0]) };

    // Execute
    const decision = decidePromotion({ candidate, champion: null });

    // Assert
    const [lo, hi] = decision.candidate.aurocInterval!;
    expect(decision.promote).toBe(false);
    expect(decision.reason).toBe(`not promoted: pooled AUROC 0.875 with 95 % interval ${lo.toFixed(3)}–${hi.toFixed(3)}: its lower bound is not above chance (0.5)`);
  });

  it("is not promoted at chance", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: counts([25, 25, 25, 25], [25, 25, 25, 25]) }, champion: null });

    // Assert
    expect(decision.promote).toBe(false);
    expect(decision.reason).toMatch(/^not promoted: pooled AUROC 0\.500 with 95 % interval .*: not above chance \(0\.5\); AUROC within sites 0\.500 .*: not above chance \(0\.5\): the model does not tell a site's patients apart$/);
  });

  it("is not promoted when it only sorts the sites: pooled rows separate, each site's do not", () => {
    // Prepare: every row scores 0.8 at site a (80 % positive) and 0.2 at site b (20 % positive): AUROC 0.5 within each.
    const at = (bin: number, n: number) => Array.from({ length: 5 }, (_, i) => (i === bin ? n : 0));
    const candidate = { a: counts(at(4, 80), at(4, 20)), b: counts(at(1, 20), at(1, 80)) };

    // Execute
    const decision = decidePromotion({ candidate, champion: null });

    // Assert
    expect(decision.candidate.auroc).toBeCloseTo(0.8, 10);
    expect(decision.rules.find((r) => r.rule === "chance")?.passed).toBe(true);
    expect(decision.rules.find((r) => r.rule === "within-site")).toMatchObject({ passed: false, numbers: { stratified: 0.5 } });
    expect(decision.promote).toBe(false);
  });

  it("must be under the ECE cap when the policy sets one", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: champion() }, champion: null, policy: { maxEce: 0.01 } });

    // Assert
    const ece = decision.candidate.calibration.ece!;
    expect(ece).toBeGreaterThan(0.01);
    expect(decision.promote).toBe(false);
    expect(rule(decision, "calibration").reason).toBe(`pooled ECE ${ece.toFixed(3)} above the cap 0.01`);
  });
});

describe("decidePromotion: the pooled AUROC rule", () => {
  it("passes a candidate down by no more than the margin", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: lower(4) }, champion: { a: champion() } });

    // Assert
    expect(rule(decision, "pooled-auroc")).toMatchObject({
      passed: true,
      numbers: { candidate: expect.closeTo(0.856, 12), champion: expect.closeTo(0.86, 12), margin: 0.005 },
      reason: "pooled AUROC 0.856 against the champion's 0.860: down 0.004, within the margin 0.005",
    });
  });

  it("fails a candidate down by more than the margin", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: lower(6) }, champion: { a: champion() } });

    // Assert
    expect(decision.promote).toBe(false);
    expect(rule(decision, "pooled-auroc")).toMatchObject({
      passed: false,
      numbers: { change: expect.closeTo(-0.006, 12) },
      reason: "pooled AUROC 0.854 against the champion's 0.860: down 0.006, more than the margin 0.005",
    });
  });

  it("fails when the pooled rows hold one class", () => {
    // Prepare
    const negatives = counts([0, 0, 0, 0], [5, 5, 5, 5]);

    // Execute
    const decision = decidePromotion({ candidate: { a: negatives }, champion: { a: negatives } });

    // Assert
    expect(rule(decision, "pooled-auroc")).toMatchObject({ passed: false, reason: "pooled AUROC undefined: the pooled rows hold one class" });
  });
});

describe("decidePromotion: the per-site sensitivity rule", () => {
  it("fails when one site's sensitivity falls by more than the drop, though the pooled AUROC rose", () => {
    // Prepare: at b, 0.74 of positives score ≥ 0.5 against the champion's 0.8.
    const candidate = { a: champion(), b: counts([0, 26, 4, 70], [50, 30, 15, 5]) };

    // Execute
    const decision = decidePromotion({ candidate, champion: { a: champion(), b: champion() } });

    // Assert
    expect(rule(decision, "pooled-auroc").passed).toBe(true);
    expect(decision.promote).toBe(false);
    expect(rule(decision, "site-sensitivity")).toMatchObject({
      passed: false,
      numbers: { judged: 2, notJudged: 0, worstChange: expect.closeTo(-0.06, 12), drop: 0.05 },
      reason: "sensitivity at 0.5 down by more than 0.05 at b: 0.740 against the champion's 0.800, down 0.060",
    });
    expect(rule(decision, "site-sensitivity").sites?.map((s) => s.passed)).toEqual([true, false]);
  });

  it("passes a drop of exactly the allowed 0.05", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: counts([0, 25, 5, 70], [50, 30, 15, 5]) }, champion: { a: champion() } });

    // Assert
    expect(rule(decision, "site-sensitivity")).toMatchObject({
      passed: true,
      reason: "sensitivity at 0.5 down by at most 0.05 at every judged site (worst down 0.050)",
    });
  });

  it("reports a site with too few positives as not judged, and judges it when the policy asks for fewer", () => {
    // Prepare: c holds 10 positives, and the candidate's scores there are reversed.
    const small = counts([1, 2, 3, 4], [4, 3, 2, 1]);
    const input: PromotionInput = { candidate: { a: champion(), c: reversed(small) }, champion: { a: champion(), c: small } };

    // Execute
    const strict = decidePromotion(input);
    const loose = decidePromotion({ ...input, policy: { minPositives: 10 } });

    // Assert
    expect(rule(strict, "site-sensitivity")).toMatchObject({
      passed: true,
      numbers: { judged: 1, notJudged: 1 },
      reason: "sensitivity at 0.5 down by at most 0.05 at every judged site (worst unchanged); not judged: c (10 positives, fewer than 20)",
    });
    expect(rule(strict, "site-sensitivity").sites?.[1]).toMatchObject({ siteId: "c", passed: null });
    expect(rule(loose, "site-sensitivity")).toMatchObject({
      passed: false,
      reason: "sensitivity at 0.5 down by more than 0.05 at c: 0.300 against the champion's 0.700, down 0.400",
    });
  });

  it("judges at the policy's operating threshold", () => {
    // Prepare: at 0.25 both keep 95 of 100 positives; at 0.5 the candidate keeps 74.
    const candidate = { a: counts([5, 21, 4, 70], [50, 30, 15, 5]) };

    // Execute
    const decision = decidePromotion({ candidate, champion: { a: champion() }, policy: { threshold: 0.25 } });

    // Assert
    expect(rule(decision, "site-sensitivity")).toMatchObject({ passed: true, numbers: { threshold: 0.25, worstChange: 0 } });
    expect(decision.candidate).toMatchObject({ threshold: 0.25, sensitivity: 0.95 });
  });
});

// 8 bins, 80 rows in each of four: the calibrated model scores at 0.1875, 0.4375, 0.5625 and
// 0.8125 with exactly those shares of positives (ECE 0); the overconfident one ranks the same rows
// the same way one bin further out (0.0625, 0.3125, 0.6875, 0.9375): ECE 0.125, same AUROC.
const calibrated = () => counts([0, 15, 0, 35, 45, 0, 65, 0], [0, 65, 0, 45, 35, 0, 15, 0]);
const overconfident = () => counts([15, 0, 35, 0, 0, 45, 0, 65], [65, 0, 45, 0, 0, 35, 0, 15]);

describe("decidePromotion: the calibration rule", () => {
  it("fails a candidate whose pooled ECE rises by more than the margin", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: overconfident() }, champion: { a: calibrated() } });

    // Assert
    expect(decision.candidate.auroc).toBe(decision.champion?.auroc);
    expect(rule(decision, "calibration")).toMatchObject({
      passed: false,
      numbers: { candidate: expect.closeTo(0.125, 12), champion: expect.closeTo(0, 12), margin: 0.02 },
      reason: "pooled ECE 0.125 against the champion's 0.000: up 0.125, more than the margin 0.02",
    });
  });

  it("passes a candidate whose ECE falls", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: calibrated() }, champion: { a: overconfident() } });

    // Assert
    expect(rule(decision, "calibration")).toMatchObject({
      passed: true,
      reason: "pooled ECE 0.000 against the champion's 0.125: down 0.125, within the margin 0.02",
    });
  });

  it("fails a candidate over the cap even when the champion is as bad", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: overconfident() }, champion: { a: overconfident() }, policy: { maxEce: 0.1 } });

    // Assert
    expect(rule(decision, "calibration")).toMatchObject({
      passed: false,
      reason: "pooled ECE 0.125 against the champion's 0.125: unchanged, within the margin 0.02; pooled ECE 0.125 above the cap 0.1",
    });
  });
});

// A champion that scored AUROC 0.96 when it was promoted.
const baseline = () => evaluateCounts(counts([0, 10, 30, 60], [60, 30, 10, 0]));

describe("decidePromotion: better, or the champion degraded", () => {
  it("promotes a candidate that passes every rule and beats the champion", () => {
    // Prepare: one positive moved up from the lowest bin, AUROC 0.864.
    const candidate = { a: counts([4, 16, 30, 50], [50, 30, 15, 5]) };

    // Execute
    const decision = decidePromotion({ candidate, champion: { a: champion() } });

    // Assert
    expect(decision.rules.map((r) => [r.rule, r.passed])).toEqual([
      ["comparable", true], ["pooled-auroc", true], ["site-sensitivity", true], ["calibration", true], ["improvement", true],
    ]);
    expect(decision).toMatchObject({ promote: true, reason: "promoted: pooled AUROC 0.864 above the champion's 0.860" });
  });

  it("keeps a champion that the candidate only equals, and says whether it has degraded", () => {
    // Execute
    const blind = decidePromotion({ candidate: { a: champion() }, champion: { a: champion() } });
    const healthy = decidePromotion({ candidate: { a: champion() }, champion: { a: champion() }, championBaseline: evaluateCounts(lower(-2)) });

    // Assert
    expect(blind.reason).toBe(
      "champion kept: pooled AUROC 0.860 not above the champion's 0.860, and no baseline to tell whether the champion has degraded",
    );
    expect(healthy.reason).toBe(
      "champion kept: pooled AUROC 0.860 not above the champion's 0.860, and the champion has not degraded: pooled AUROC 0.860 against 0.862 when promoted",
    );
  });

  it("replaces a degraded champion with a candidate that is not worse", () => {
    // Execute: the candidate is 0.002 below the champion, which fell from 0.96 to 0.86.
    const decision = decidePromotion({ candidate: { a: lower(2) }, champion: { a: champion() }, championBaseline: baseline() });

    // Assert
    expect(decision.promote).toBe(true);
    expect(decision.reason).toBe(
      "promoted: the champion has degraded: pooled AUROC 0.860 against 0.960 when promoted, down 0.100, more than the margin 0.005; " +
        "a candidate that passes the other rules may replace it (pooled AUROC 0.858 not above the champion's 0.860)",
    );
    expect(rule(decision, "improvement").numbers).toEqual({ candidate: expect.closeTo(0.858, 12), champion: expect.closeTo(0.86, 12), baseline: expect.closeTo(0.96, 12), margin: 0.005 });
  });

  it("keeps a degraded champion when the policy replaces it only with a better candidate", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: lower(2) }, champion: { a: champion() }, championBaseline: baseline(), policy: { replaceDegraded: false } });

    // Assert
    expect(decision.promote).toBe(false);
    expect(rule(decision, "improvement").reason).toMatch(/, but the policy replaces it only with a better candidate$/);
  });
});

describe("decidePromotion: a run trained under attack", () => {
  it("rejects a candidate whose scores are reversed at one site, naming the AUROC and sensitivity numbers", () => {
    // Prepare: a stand-in for plain FedAvg with one site sending scale:-10: the candidate ranks
    // site c's rows backwards (its histograms reversed), a's and b's as the champion does.
    const held = { a: champion(), b: champion(), c: champion() };
    const candidate = { a: champion(), b: champion(), c: reversed(champion()) };

    // Execute
    const decision = decidePromotion({ candidate, champion: held, championBaseline: evaluateCounts(champion()) });

    // Assert: pooled u = 60·52.5 + 60·142.5 + 75·210 + 105·270 = 55 800 of 90 000 pairs.
    expect(decision.promote).toBe(false);
    expect(decision.candidate.auroc).toBeCloseTo(0.62, 12);
    expect(decision.champion?.auroc).toBeCloseTo(0.86, 12);
    expect(decision.reason).toContain("pooled AUROC 0.620 against the champion's 0.860: down 0.240, more than the margin 0.005");
    expect(decision.reason).toContain("sensitivity at 0.5 down by more than 0.05 at c: 0.200 against the champion's 0.800, down 0.600");
    expect(decision.reason).toMatch(/^champion kept: /);
    expect(GateDecision.safeParse(decision).success).toBe(true);
  });
});

describe("decidePromotion: sites", () => {
  it("compares on the sites that evaluated both and names the others", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: champion(), c: champion() }, champion: { a: champion(), b: lower(50) } });

    // Assert
    expect(decision).toMatchObject({ sites: ["a"], leftOut: ["b", "c"] });
    expect(decision.candidate.n).toBe(200);
    expect(rule(decision, "comparable").reason).toBe("compared at 1 site: a; left out b, c (evaluated one model only)");
  });

  it("keeps the champion when no site evaluated both", () => {
    // Execute
    const decision = decidePromotion({ candidate: { a: champion() }, champion: { b: champion() } });

    // Assert
    expect(decision).toMatchObject({
      promote: false,
      reason: "champion kept: no site evaluated both the candidate and the champion; left out a, b (evaluated one model only)",
      sites: [],
    });
    expect(decision.rules).toHaveLength(1);
  });
});

describe("decidePromotion: properties", () => {
  const histogram = fc.array(fc.nat(40), { minLength: 4, maxLength: 4 });
  const site = fc.tuple(histogram, histogram).map(([pos, neg]) => counts(pos, neg));
  const sites = fc.dictionary(fc.constantFrom("a", "b", "c", "d"), site, { minKeys: 1 });

  it("is deterministic, whatever the order of the sites, and promotes exactly when every rule passes", () => {
    fc.assert(
      fc.property(sites, fc.option(sites, { nil: null }), (candidate, champion) => {
        // Prepare
        const flip = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).reverse());
        const input = { candidate, champion };

        // Execute
        const first = decidePromotion(input);
        const again = decidePromotion(input);
        const flipped = decidePromotion({ candidate: flip(candidate), champion: champion && flip(champion) });

        // Assert
        expect(again).toEqual(first);
        expect(flipped).toEqual(first);
        expect(first.promote).toBe(first.rules.every((r) => r.passed));
        expect(GateDecision.safeParse(first).success).toBe(true);
      }),
    );
  });
});
