import { describe, expect, it } from "vitest";
import { countPredictions } from "../metrics/count-predictions.ts";
import { mergeCounts } from "../metrics/merge-counts.ts";
import { FederatedEvaluation, federatedEvaluation } from "./federated-evaluation.ts";
import { evaluateCounts } from "./model-evaluation.ts";

const site = (scores: number[], labels: number[], bins = 10) => countPredictions(new Float64Array(scores), new Uint8Array(labels), bins);
const a = site([0.85, 0.95, 0.65, 0.35, 0.75], [1, 1, 1, 0, 0]);
const b = site([0.45, 0.25, 0.15, 0.05, 0.95], [1, 1, 0, 0, 0]);

describe("federatedEvaluation", () => {
  it("evaluates every site, in id order, and the pooled counts", () => {
    // Execute
    const evaluation = federatedEvaluation({ "site-b": b, "site-a": a });

    // Assert
    expect(evaluation.sites.map((s) => s.siteId)).toEqual(["site-a", "site-b"]);
    expect(evaluation.sites[1]).toEqual({ siteId: "site-b", ...evaluateCounts(b) });
    expect(evaluation.pooled).toEqual(evaluateCounts(mergeCounts([a, b])));
    expect(evaluation.pooled.n).toBe(10);
    expect(FederatedEvaluation.safeParse(evaluation).success).toBe(true);
  });

  it("refuses sites whose histograms have different bins", () => {
    // Execute / Assert
    expect(() => federatedEvaluation({ a, b: site([0.5], [1], 4) })).toThrow("counts[1] has 4 bins but counts[0] has 10");
  });

  it("refuses an evaluation that names a site twice", () => {
    // Prepare
    const evaluation = federatedEvaluation({ a });
    const twice = { ...evaluation, sites: [...evaluation.sites, ...evaluation.sites] };

    // Execute / Assert
    expect(FederatedEvaluation.safeParse(twice).error?.issues.map((i) => i.message)).toEqual(["site ids must be unique"]);
  });
});
