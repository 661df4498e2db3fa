import { describe, expect, it } from "vitest";
import { aurocFromHistogram } from "../metrics/auroc.ts";
import { countPredictions } from "../metrics/count-predictions.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { seededRandom, standardNormal } from "../random.ts";
import { performanceFlags } from "./performance.ts";
import { DriftPolicy } from "./policy.ts";

const policy = DriftPolicy.parse({});
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The champion's counts on `rows` patients: it scores risk sigmoid(−1.5 + 1.2·x) from a marker x,
 * and the patients' true risk is `truth` of the same marker (the champion's own when calibrated).
 */
function window(seed: number, rows: number, truth: (x: number) => number): EvalCounts {
  const rng = seededRandom(seed);
  const scores = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const x = standardNormal(rng);
    scores[i] = sigmoid(-1.5 + 1.2 * x);
    labels[i] = rng() < truth(x) ? 1 : 0;
  }
  return countPredictions(scores, labels, 100);
}
const champion = (x: number) => sigmoid(-1.5 + 1.2 * x);

describe("performanceFlags", () => {
  it("says nothing when new rows behave as the training window did", () => {
    expect(performanceFlags(window(1, 3000, champion), window(2, 600, champion), policy, "site-4")).toEqual([]);
  });

  it("flags an AUROC that fell beyond the intervals' noise, with both intervals", () => {
    // Prepare: the marker now explains less of the outcome (a weaker slope, same prevalence).
    const reference = window(1, 3000, champion);
    const current = window(3, 600, (x) => sigmoid(-1.4 + 0.3 * x));

    // Execute
    const flags = performanceFlags(reference, current, policy, "site-4");

    // Assert
    const auroc = flags.find((f) => f.check === "auroc");
    expect(auroc?.score).toBeGreaterThan(0.15);
    expect(auroc?.reason).toMatch(
      /^site-4: the champion's AUROC fell from 0\.7\d \(95% CI 0\.\d\d–0\.\d\d\) on its training data to 0\.[56]\d \(95% CI 0\.\d\d–0\.\d\d\) on 600 newly labelled rows \(\d+ positive\): a drop of 0\.\d\d, \d+\.\d standard errors$/,
    );
  });

  it("leaves a drop of the same size unflagged when the new window is too small to tell it from noise", () => {
    const reference = window(1, 3000, champion);
    const current = window(3, 40, (x) => sigmoid(-1.4 + 0.3 * x));
    const drop = (aurocFromHistogram(reference.pos, reference.neg) ?? 0) - (aurocFromHistogram(current.pos, current.neg) ?? 1);
    expect(drop).toBeGreaterThan(policy.aurocDrop);
    expect(performanceFlags(reference, current, policy, "site-4").some((f) => f.check === "auroc")).toBe(false);
  });

  it("flags risks that now come true twice as often as predicted, naming where", () => {
    // Prepare: same ranking, but the true risk doubled (capped at 1).
    const reference = window(1, 3000, champion);
    const current = window(4, 800, (x) => Math.min(1, 2 * champion(x)));

    // Execute
    const flags = performanceFlags(reference, current, policy, "site-4");

    // Assert
    expect(flags.map((f) => f.check)).toEqual(["calibration"]);
    expect(flags[0]?.score).toBeGreaterThan(0.1);
    expect(flags[0]?.reason).toMatch(
      /^site-4: the champion's calibration error \(ECE\) rose from 0\.0\d\d on its training data to 0\.\d{3} on 800 newly labelled rows \(Hosmer–Lemeshow \d+\.\d over \d+ groups, noise reaches \d+\.\d\); worst at scores 0\.\d\d–[01]\.\d\d: \d+% predicted, \d+% observed in \d+ rows; Brier 0\.\d{3} against 0\.\d{3} \(±0\.0\d+ from binning\)$/,
    );
  });
});
