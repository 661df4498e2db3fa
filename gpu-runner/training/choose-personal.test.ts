import { describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { seededRandom } from "../../core/random.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { logisticRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import { choosePersonal, choosePersonalHead, correctRows, dittoSplit, fineTune, meanAndError, MIN_VALIDATION_ROWS, rowCrossEntropy, VALIDATION_SHARE, validationSplit } from "./choose-personal.ts";
import { trainBody, trainHead } from "./train.ts";

const opts = (seed: number) => ({ epochs: 20, batchSize: 16, learningRate: 0.3, l2: 0.01, rng: seededRandom(seed) });

describe("the personal head's validation split", () => {
  it("holds a share of each label's rows out, seeded, and loses no row", () => {
    const data = logisticRows(103, [1, -1], 0, 3);
    const { fit, validation } = validationSplit(data, 0.2, seededRandom(1));
    expect(fit.rows + validation.rows).toBe(103);
    const ones = (d: Dataset) => d.y.reduce((n, v) => n + v, 0);
    expect(ones(fit) + ones(validation)).toBe(ones(data));
    expect(Math.abs(ones(validation) - Math.round(0.2 * ones(data)))).toBe(0);
    expect(validationSplit(data, 0.2, seededRandom(1))).toEqual({ fit, validation });
    // A label with a single row stays in the fitting rows.
    const lone: Dataset = { x: new Float32Array([0, 1, 2, 3]), y: new Uint8Array([1, 0, 0, 0]), rows: 4, dim: 1 };
    expect(validationSplit(lone, 0.2, seededRandom(1)).validation.y).toEqual(new Uint8Array([0]));
  });

  it("scores cross-entropy row by row with probabilities kept off 0 and 1, and a mean with its standard error", () => {
    expect(rowCrossEntropy([0.5, 0.5], [1, 0]).map((l) => l / Math.log(2))).toEqual([1, 1]);
    expect(rowCrossEntropy([0, 1], [1, 0]).every(Number.isFinite)).toBe(true);
    // 1, 2, 3, 4: mean 2.5, sample sd √(5/3), standard error √(5/3)/2.
    const { mean, se } = meanAndError([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(se).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(meanAndError([1]).se).toBe(Number.POSITIVE_INFINITY);
    // Right: a probability of at least 0.5 for a positive, the class of the largest of K.
    expect(correctRows([0.6, 0.4, 0.5, 0.2], [1, 1, 1, 0])).toBe(3);
    expect(correctRows([0.1, 0.7, 0.2, 0.5, 0.3, 0.2], [1, 2])).toBe(1);
  });
});

describe("choosing the personal head", () => {
  it("keeps it at a site whose rows the global model misjudges, and uses the head fitted on every row", async () => {
    await selectBackend("cpu");
    // The global model learnt elsewhere: at this site the outcome's base rate is shifted far up.
    const layout = modelLayout({ kind: "logreg" }, 2);
    const elsewhere = logisticRows(400, [2, -1], -1, 5);
    const body = trainBody(layout, initBody(layout, seededRandom(1)), elsewhere, opts(2)).params;
    const here = logisticRows(200, [2, -1], 2.5, 6);
    const { head, choice } = choosePersonalHead(layout, body, here, opts(7), seededRandom(8));
    expect(choice.kind).toBe("personal");
    expect(choice.loss!.personal).toBeLessThan(choice.loss!.global);
    expect(choice.validationRows).toBe(40);
    expect(head).toEqual(trainHead(layout, body, new Float32Array(layout.headSize), here, opts(7)).params);
    // The caller's generator is left where a single fit of the head leaves it: what it trains next is as before.
    const mine = opts(7);
    choosePersonalHead(layout, body, here, mine, seededRandom(8));
    const reference = opts(7);
    trainHead(layout, body, new Float32Array(layout.headSize), here, reference);
    expect(mine.rng()).toBe(reference.rng());
  });

  it("keeps the global model where the head does not beat it on the validation rows, and where they are too few", async () => {
    await selectBackend("cpu");
    const layout = modelLayout({ kind: "logreg" }, 2);
    // Every input twice, once with each label: 0.5 everywhere (the global model here, a zero body)
    // is the best there is, and a head fitted on the other rows learns the labels of the validation
    // rows' twins, the opposite of theirs.
    const body = new Float32Array(layout.bodySize);
    const rng = seededRandom(21);
    const inputs = Array.from({ length: 30 }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const noise: Dataset = { x: Float32Array.from([...inputs, ...inputs].flat()), y: Uint8Array.from({ length: 60 }, (_, i) => (i < 30 ? 1 : 0)), rows: 60, dim: 2 };
    const { head, choice } = choosePersonalHead(layout, body, noise, { ...opts(11), epochs: 200, l2: 0 }, seededRandom(12));
    expect(choice.loss!.global).toBeCloseTo(Math.log(2), 6);
    expect(choice.kind).toBe("global");
    expect(choice.loss!.personal).toBeGreaterThan(choice.loss!.global);
    expect(Array.from(head).every((v) => v === 0)).toBe(true);
    const tiny = logisticRows(2 * MIN_VALIDATION_ROWS, [2, -1], 0, 13);
    const small = choosePersonalHead(layout, body, tiny, opts(14), seededRandom(15));
    expect(small.choice).toMatchObject({ kind: "global", loss: null });
    expect(small.choice.reason).toMatch(/too few to judge/);
  });

  it("keeps the head at a site of one class that the global model calls 0.5, where every validation row gains", async () => {
    await selectBackend("cpu");
    const layout = modelLayout({ kind: "logreg" }, 2);
    // Nearly every patient positive (as at a referral centre): a head that moves the base rate wins on every row.
    const site: Dataset = { x: Float32Array.from({ length: 80 }, (_, i) => Math.sin(i)), y: Uint8Array.from({ length: 40 }, (_, i) => (i === 0 ? 0 : 1)), rows: 40, dim: 2 };
    const { choice } = choosePersonalHead(layout, new Float32Array(layout.bodySize), site, opts(16), seededRandom(17));
    expect(choice.kind).toBe("personal");
    expect(choice.reason).toMatch(/difference -\d\.\d{4} ± \d\.\d{4}, one standard error; kept only below −2 standard errors\); right \d+ vs \d+$/);
  });
});

describe("the other personalisation methods", () => {
  it("fine-tunes only the last layers of the global model, pulled towards it, and keeps them where they win", async () => {
    await selectBackend("cpu");
    // Prepare: an MLP learnt elsewhere; here the base rate is shifted far up.
    const layout = modelLayout({ kind: "mlp", hidden: [4] }, 2);
    const body = trainBody(layout, initBody(layout, seededRandom(1)), logisticRows(400, [2, -1], -1, 5), opts(2)).params;
    const here = logisticRows(200, [2, -1], 2.5, 6);
    const how = fineTune(layout, body, { ...opts(7), l2: 0.01 }, 1);

    // Execute
    const split = validationSplit(here, VALIDATION_SHARE, seededRandom(8));
    const { model, choice } = choosePersonal(layout, body, here, how, split, seededRandom(9), seededRandom(8));

    // Assert: the hidden layer (segments 0 and 1) untouched, the output layer moved; no head.
    expect(choice).toMatchObject({ kind: "personal", method: "finetune of the last layer" });
    expect(model.head).toBeNull();
    expect(Array.from(model.body.subarray(0, 12))).toEqual(Array.from(body.subarray(0, 12)));
    expect(Array.from(model.body.subarray(12))).not.toEqual(Array.from(body.subarray(12)));
    // Kept: the one fitted on every row, not the trial.
    expect(model.body).toEqual(how.fit(here, seededRandom(9)).body);
  });

  it("judges Ditto's model as it is (trained on the fit share only), and falls back to the global model where it loses", async () => {
    await selectBackend("cpu");
    const layout = modelLayout({ kind: "logreg" }, 2);
    const body = trainBody(layout, initBody(layout, seededRandom(1)), logisticRows(400, [2, -1], -1, 5), opts(2)).params;
    const here = logisticRows(200, [2, -1], 2.5, 6);
    const split = dittoSplit(here, 42);
    // The same split at every round and at the evaluation: the validation rows are never trained on.
    expect(dittoSplit(here, 42)).toEqual(split);
    const v = trainBody(layout, body, split.fit, { ...opts(3), proximal: { mu: 0.5, anchor: body } }).params;
    const ditto = { method: "ditto", refit: false, fit: () => ({ body: v, head: null }) };
    const kept = choosePersonal(layout, body, here, ditto, split, seededRandom(4), seededRandom(5));
    expect(kept.choice.kind).toBe("personal");
    expect(kept.model.body).toBe(v);
    // A model worse than the global one (its weights scrambled) is not kept.
    const bad = { ...ditto, fit: () => ({ body: Float32Array.from(body, (w) => -3 * w), head: null }) };
    const refused = choosePersonal(layout, body, here, bad, split, seededRandom(4), seededRandom(5));
    expect(refused.choice.kind).toBe("global");
    expect(refused.model).toEqual({ body, head: null });
  });

  it("keeps no personal model that gets fewer validation rows right, however much lower its cross-entropy", async () => {
    await selectBackend("cpu");
    const layout = modelLayout({ kind: "logreg" }, 1);
    // 18 positives at x = 1, 2 at x = 0.04, 20 negatives at x = −1.
    const xs = [...Array(18).fill(1), 0.04, 0.04, ...Array(20).fill(-1)];
    const rows: Dataset = { x: Float32Array.from(xs), y: Uint8Array.from(xs.map((_, i) => (i < 20 ? 1 : 0))), rows: 40, dim: 1 };
    const global = Float32Array.from([1, 0]);
    // Near certain on 38 rows, wrong on the two positives near the boundary: far lower cross-entropy, two more errors.
    const sharp = { method: "sharp", refit: false, fit: () => ({ body: Float32Array.from([100, -5]), head: null }) };
    const { choice } = choosePersonal(layout, global, rows, sharp, { fit: rows, validation: rows }, seededRandom(1), seededRandom(2));
    expect(choice.loss!.personal).toBeLessThan(choice.loss!.global / 4);
    expect(choice.kind).toBe("global");
    expect(choice.reason).toMatch(/right 38 vs 40$/);
    // The same model with the boundary moved to take those two in is kept.
    const fixed = { ...sharp, fit: () => ({ body: Float32Array.from([100, 0]), head: null }) };
    expect(choosePersonal(layout, global, rows, fixed, { fit: rows, validation: rows }, seededRandom(1), seededRandom(2)).choice.kind).toBe("personal");
  });
});
