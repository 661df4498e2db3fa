import { describe, expect, it } from "vitest";
import { aurocInterval } from "../metrics/auroc-interval.ts";
import { clinicalMetrics } from "../metrics/clinical-metrics.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { RunReport } from "../schemas/report.ts";
import type { RoundRecord } from "../schemas/round.ts";
import { FederationStatus } from "../schemas/status.ts";
import { wilsonInterval } from "../metrics/wilson-interval.ts";
import { buildRunReport } from "./build-run-report.ts";
import { countsOf } from "../../test/support/report.ts";

// AUROCs over 4 bins, by hand (a positive and a negative in one bin tie at ½):
const auroc05 = countsOf([0.9, 0.3], [0.6]); // 0.9 > 0.6, 0.3 < 0.6: ½
const auroc0875 = countsOf([0.9, 0.6], [0.1, 0.7]); // 1 + 1 + 1 + ½ (0.6 and 0.7 share a bin): 3.5 / 4
const auroc1 = countsOf([0.9], [0.1]); // 1
const auroc0 = countsOf([0.3], [0.6]); // 0

interface RoundSpec {
  round: number;
  base: number;
  result?: number;
  status?: RoundRecord["status"];
  baseModel?: EvalCounts;
  updates?: number;
  trainLoss?: number;
  sites?: { siteId: string; samples: number; auroc?: number | null; trainLoss?: number; baseVersion?: number }[];
}

function status(rounds: RoundSpec[], modelVersion: number, evaluations: { siteId: string; global: EvalCounts; personalized?: EvalCounts; local?: EvalCounts }[] = []) {
  return FederationStatus.parse({
    federation: "sim",
    strategy: "fedavg",
    codec: "float32",
    rounds: rounds.length,
    state: { phase: "done", round: rounds.length, modelVersion, updatedAt: 0 },
    sites: [
      { id: "a", name: "Alpha", statsReported: true, updates: 3, evaluated: true },
      { id: "b", name: "Beta", statsReported: true, updates: 3, evaluated: true },
      { id: "c", name: "Gamma", statsReported: true, updates: 0, evaluated: false },
    ],
    roundLog: rounds.map((r) => ({
      round: r.round,
      baseVersion: r.base,
      status: r.status ?? (r.result === undefined ? "skipped" : "closed"),
      openedAt: 0,
      deadline: 1,
      ...(r.result === undefined ? {} : { resultVersion: r.result }),
      updates: r.updates ?? 2,
      bytesUp: 100 * r.round,
      bytesDown: 1000,
      baseModel: r.baseModel ? clinicalMetrics(r.baseModel) : null,
      ...(r.trainLoss !== undefined && { trainLoss: r.trainLoss }),
      ...(r.sites && { sites: r.sites }),
    })),
    rejections: [{ at: 0, siteId: "b", round: 2, code: "BAD_CHECKSUM", message: "sha256 mismatch" }],
    evaluations: evaluations.map((e) => ({ modelVersion, trainRows: 40, testRows: 2, personalized: e.global, local: e.global, ...e })),
    final: null,
  });
}

/** Site a's final model is perfect, site b's is always wrong: pooled AUROC 3/4, not the site mean ½. */
const finalEvaluations = [
  { siteId: "a", global: countsOf([0.9], [0.1]), personalized: countsOf([0.9], [0.1]), local: countsOf([0.3], [0.1]) },
  { siteId: "b", global: countsOf([0.3], [0.6]), personalized: countsOf([0.9], [0.1]), local: countsOf([0.6], [0.4]) },
];

const aurocs = (s: ReturnType<typeof status>) => buildRunReport({ seed: 1, wallSeconds: 2, status: s, centralized: new Map() }).rounds.map((r) => r.auroc);

describe("buildRunReport round AUROCs", () => {
  it("takes round r's AUROC from round r+1's base-model counts, and the last round's from the final evaluation", () => {
    // Prepare
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, result: 2, baseModel: auroc0875 },
        { round: 3, base: 2, result: 3, baseModel: auroc1 },
      ],
      3,
      finalEvaluations,
    );

    // Execute and Assert
    expect(aurocs(s)).toEqual([0.875, 1, 0.75]);
  });

  it("gives a skipped round no AUROC, and the round before it the AUROC measured by the next round that trained from its model", () => {
    // Prepare: round 2 got no update, so round 3 trains from model 1 again.
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, updates: 0 },
        { round: 3, base: 1, result: 3, baseModel: auroc0875 },
        { round: 4, base: 3, result: 4, baseModel: auroc1 },
      ],
      4,
      finalEvaluations,
    );

    // Execute and Assert
    expect(aurocs(s)).toEqual([0.875, null, 1, 0.75]);
  });

  it("uses round r+1's counts when round r+1 measured the model but was skipped (its updates rejected)", () => {
    // Prepare
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, baseModel: auroc0 },
        { round: 3, base: 1, result: 3, baseModel: auroc1 },
      ],
      3,
      finalEvaluations,
    );

    // Execute and Assert
    expect(aurocs(s)).toEqual([0, null, 0.75]);
  });

  it("does not depend on the order the log lists the rounds in", () => {
    // Prepare
    const rounds = [
      { round: 1, base: 0, result: 1, baseModel: auroc05 },
      { round: 2, base: 1, baseModel: auroc0 },
      { round: 3, base: 1, result: 3, baseModel: auroc1 },
    ];
    const s = status([...rounds].reverse(), 3, finalEvaluations);

    // Execute and Assert
    expect(aurocs(s)).toEqual([0.75, null, 0]);
  });

  it("gives the final model's round the final AUROC when the last round was skipped", () => {
    // Prepare
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, updates: 0 },
      ],
      1,
      finalEvaluations,
    );

    // Execute and Assert
    expect(aurocs(s)).toEqual([0.75, null]);
  });

  it("gives the last round null before any site evaluated the final model", () => {
    // Prepare
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, result: 2, baseModel: auroc1 },
      ],
      2,
    );

    // Execute and Assert
    expect(aurocs(s)).toEqual([1, null]);
  });
});

describe("buildRunReport", () => {
  it("reports site accuracies, their means, pooled metrics from summed counts, bytes and rejections", () => {
    // Prepare
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05 },
        { round: 2, base: 1, result: 2, baseModel: auroc1 },
      ],
      2,
      finalEvaluations,
    );
    const centralized = new Map([["a", countsOf([0.9, 0.8], [0.2, 0.7])]]);

    // Execute
    const report = buildRunReport({ seed: 5, wallSeconds: 12.5, status: s, centralized });

    // Assert
    const none = { global: null, personalized: null, local: null, centralized: null };
    expect(report.sites).toEqual([
      {
        id: "a", name: "Alpha", trainRows: 40, testRows: 2,
        accuracy: { global: 1, personalized: 1, local: 0.5, centralized: 0.75 },
        accuracyIntervals: { global: wilsonInterval(2, 2), personalized: wilsonInterval(2, 2), local: wilsonInterval(1, 2), centralized: wilsonInterval(3, 4) },
      },
      {
        id: "b", name: "Beta", trainRows: 40, testRows: 2,
        accuracy: { global: 0, personalized: 1, local: 1, centralized: null },
        accuracyIntervals: { global: wilsonInterval(0, 2), personalized: wilsonInterval(2, 2), local: wilsonInterval(2, 2), centralized: null },
      },
      { id: "c", name: "Gamma", trainRows: 0, testRows: 0, accuracy: none, accuracyIntervals: none },
    ]);
    expect(report.meanSiteAccuracy).toEqual({ global: 0.5, personalized: 1, local: 0.75, centralized: 0.75 });
    // Pooled global: positives 0.9 and 0.3, negatives 0.1 and 0.6; the AUROC's interval is DeLong's on those bins.
    expect(report.pooled.global).toEqual({
      accuracy: 0.5, auroc: 0.75, sensitivity: 0.5, specificity: 0.5,
      intervals: { accuracy: wilsonInterval(2, 4), auroc: aurocInterval([0, 1, 0, 1], [1, 0, 1, 0]), sensitivity: wilsonInterval(1, 2), specificity: wilsonInterval(1, 2) },
    });
    // Centralized: positives 0.9 and 0.8 above negatives 0.2 and 0.7, so AUROC 1 on two pairs: [0.025^(1/2), 1].
    expect(report.pooled.centralized).toEqual({
      accuracy: 0.75, auroc: 1, sensitivity: 1, specificity: 0.5,
      intervals: { accuracy: wilsonInterval(3, 4), auroc: [expect.closeTo(Math.sqrt(0.025), 12), 1], sensitivity: wilsonInterval(2, 2), specificity: wilsonInterval(1, 2) },
    });
    expect(report.pooled.global.intervals?.auroc?.[0]).toBeLessThan(0.75);
    expect(report.bytes).toEqual({ up: 300, down: 2000 });
    expect(report.rejections).toBe(1);
    expect(report.rounds[0]).toEqual({ round: 1, status: "closed", sites: 2, auroc: 1, bytesUp: 100, bytesDown: 1000 });
    expect([report.seed, report.wallSeconds]).toEqual([5, 12.5]);
    expect(RunReport.parse(report)).toEqual(report);
  });

  it("leaves pooled metrics null when no site evaluated and no centralized baseline ran", () => {
    // Prepare
    const s = status([{ round: 1, base: 0, result: 1 }], 1);

    // Execute
    const report = buildRunReport({ seed: 1, wallSeconds: 1, status: s, centralized: new Map() });

    // Assert
    const empty = { accuracy: null, auroc: null, sensitivity: null, specificity: null, intervals: { accuracy: null, auroc: null, sensitivity: null, specificity: null } };
    expect(report.pooled).toEqual({ global: empty, personalized: empty, local: empty, centralized: empty });
    expect(report.meanSiteAccuracy).toEqual({ global: null, personalized: null, local: null, centralized: null });
  });
});

describe("buildRunReport per-site learning curves", () => {
  it("takes each site's AUROC after round r from round r+1's fresh updates, the last round's from the final evaluation, and the loss as the round reported it", () => {
    // Prepare: round 2's update from site b trained from an older model (asynchronous): it measured model 0, not model 1.
    const s = status(
      [
        { round: 1, base: 0, result: 1, baseModel: auroc05, trainLoss: 0.7, sites: [{ siteId: "a", samples: 3, auroc: 0.5, trainLoss: 0.6 }, { siteId: "b", samples: 1, auroc: 0.5, trainLoss: 1 }] },
        { round: 2, base: 1, result: 2, baseModel: auroc0875, trainLoss: 0.5, sites: [{ siteId: "a", samples: 3, auroc: 0.9 }, { siteId: "b", samples: 1, auroc: 0.2, baseVersion: 0 }] },
      ],
      2,
      finalEvaluations,
    );
    // Execute
    const rounds = buildRunReport({ seed: 1, wallSeconds: 2, status: s, centralized: new Map() }).rounds;
    // Assert
    expect(rounds.map((r) => r.siteAuroc)).toEqual([{ a: 0.9 }, { a: 1, b: 0 }]);
    expect(rounds.map((r) => r.loss)).toEqual([0.7, 0.5]);
    expect(RunReport.safeParse(buildRunReport({ seed: 1, wallSeconds: 2, status: s, centralized: new Map() })).success).toBe(true);
  });

  it("leaves the per-site curves out when the status holds no per-site updates", () => {
    const s = status([{ round: 1, base: 0, result: 1, baseModel: auroc05 }], 1, finalEvaluations);
    const [round] = buildRunReport({ seed: 1, wallSeconds: 2, status: s, centralized: new Map() }).rounds;
    // The final evaluation alone measures the last model: its per-site AUROCs are there, the loss is not.
    expect(round!.siteAuroc).toEqual({ a: 1, b: 0 });
    expect(round!.loss).toBeUndefined();
  });
});
