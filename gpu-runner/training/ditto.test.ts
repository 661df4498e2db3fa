import { beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { seededRandom } from "../../core/random.ts";
import type { Task } from "../../core/schemas/task.ts";
import { logisticRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import type { SiteSession } from "../session/site-session.ts";
import { dittoSplit } from "./choose-personal.ts";
import { trainBody } from "./train.ts";
import { roundOptions } from "./train-rounds.ts";
import { dittoStep } from "./train-step.ts";

type TrainTask = Extract<Task, { kind: "train" }>;

describe("Ditto's model at the site", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  const layout = modelLayout({ kind: "logreg" }, 2);
  const training = { localEpochs: 1, localSteps: 5, lrSchedule: "constant" as const, batchSize: 8, learningRate: 0.3, l2: 0, headEpochs: 5, headL2: 0.01, personalization: { method: "ditto" as const, lambda: 0.5 } };
  const task = (version: number, round: number) => ({ kind: "train", round, rounds: 10, seed: 100 + round, layout, training, federation: "fed-a", model: { version } }) as unknown as TrainTask;
  const train = logisticRows(60, [2, -1], 0.5, 3);
  const session = () => ({ siteSeed: 7, ditto: null, logger: { info() {}, warn() {}, error() {} } }) as unknown as SiteSession;

  it("carries its model from round to round, pulled towards each round's global model, trained on the fit share only", async () => {
    const s = session();
    const w1 = initBody(layout, seededRandom(1));
    const w2 = Float32Array.from(w1, (v) => v + 0.1);
    const step = (t: TrainTask, from: Float32Array, anchor: Float32Array) =>
      trainBody(layout, from, dittoSplit(train, 7).fit, { ...roundOptions(t.training, t.round, t.rounds, seededRandom((t.seed ^ 7 ^ 0xd1770) >>> 0)), proximal: { mu: 0.5, anchor } }).params;

    await dittoStep(s, task(1, 2), w1, train);
    const first = s.ditto!.body;
    await dittoStep(s, task(2, 3), w2, train);

    expect(first).toEqual(step(task(1, 2), w1, w1));
    // Round 3 starts from round 2's personal model, not from the global one.
    expect(s.ditto!.body).toEqual(step(task(2, 3), first, w2));
    expect(s.ditto!.body).not.toEqual(step(task(2, 3), w2, w2));
  });

  it("starts afresh at a federation's first round, and for another federation", async () => {
    const s = session();
    const w = initBody(layout, seededRandom(2));
    (s as { ditto: unknown }).ditto = { federation: "fed-a", body: new Float32Array(layout.bodySize).fill(5) };
    await dittoStep(s, task(0, 1), w, train);
    expect(Math.max(...s.ditto!.body)).toBeLessThan(5);
    (s as { ditto: unknown }).ditto = { federation: "fed-b", body: new Float32Array(layout.bodySize).fill(5) };
    await dittoStep(s, task(3, 4), w, train);
    expect(Math.max(...s.ditto!.body)).toBeLessThan(5);
  });

  it("does nothing under another method", async () => {
    const s = session();
    await dittoStep(s, { ...task(1, 2), training: { ...training, personalization: { method: "residual" } } } as TrainTask, initBody(layout, seededRandom(1)), train);
    expect(s.ditto).toBeNull();
  });
});
