import { beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { seededRandom } from "../../core/random.ts";
import type { Task } from "../../core/schemas/task.ts";
import { logisticRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import { scoreRows } from "../model/score-rows.ts";
import type { SiteSession } from "../session/site-session.ts";
import { dittoSplit } from "./choose-personal.ts";
import { trainBody, trainHead } from "./train.ts";
import { roundOptions } from "./train-rounds.ts";
import { fedrepHead, keepFedrepHead } from "./train-step.ts";

type TrainTask = Extract<Task, { kind: "train" }>;

describe("fedrep at the site", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  const layout = modelLayout({ kind: "logreg" }, 2);
  const training = { localEpochs: 1, localSteps: 5, lrSchedule: "constant" as const, batchSize: 8, learningRate: 0.3, headLearningRate: 0.2, l2: 0, headEpochs: 5, headL2: 0.01, personalization: { method: "fedrep" as const } };
  const task = (version: number, round: number, federation = "fed-a") => ({ kind: "train", round, rounds: 10, seed: 100 + round, layout, training, federation, model: { version } }) as unknown as TrainTask;
  const train = logisticRows(60, [2, -1], 0.5, 3);
  const session = () => ({ siteSeed: 7, fedrepHead: null, logger: { info() {}, warn() {}, error() {} } }) as unknown as SiteSession;
  const headStep = (t: TrainTask, base: Float32Array, from: Float32Array) =>
    trainHead(layout, base, from, dittoSplit(train, 7).fit, { ...roundOptions(t.training, t.round, t.rounds, seededRandom((t.seed ^ 7 ^ 0xfed4e9) >>> 0)), learningRate: 0.2, l2: 0.01, l2Bias: true }).params;

  it("trains the head every round from the one it kept, on the round's model and the fit share only", async () => {
    const s = session();
    const w1 = initBody(layout, seededRandom(1));
    const w2 = Float32Array.from(w1, (v) => v + 0.1);
    const first = await fedrepHead(s, task(1, 2), w1, train);
    expect(first).toEqual(headStep(task(1, 2), w1, new Float32Array(layout.headSize)));
    // Not kept until the round's update has gone: a retried round starts from the same head.
    expect(s.fedrepHead).toBeNull();
    expect(await fedrepHead(s, task(1, 2), w1, train)).toEqual(first);
    await keepFedrepHead(s, task(1, 2), first);
    const second = await fedrepHead(s, task(2, 3), w2, train);
    expect(second).toEqual(headStep(task(2, 3), w2, first!));
    expect(second).not.toEqual(headStep(task(2, 3), w2, new Float32Array(layout.headSize)));
  });

  it("starts with no head at a federation's first round and for another federation, and does nothing under another method", async () => {
    const s = session();
    const w = initBody(layout, seededRandom(2));
    const zero = new Float32Array(layout.headSize);
    (s as { fedrepHead: unknown }).fedrepHead = { federation: "fed-a", head: new Float32Array(layout.headSize).fill(5) };
    expect(await fedrepHead(s, task(0, 1), w, train)).toEqual(headStep(task(0, 1), w, zero));
    expect(await fedrepHead(s, task(3, 4, "fed-b"), w, train)).toEqual(headStep(task(3, 4, "fed-b"), w, zero));
    expect(await fedrepHead(s, { ...task(1, 2), training: { ...training, personalization: { method: "residual" } } } as TrainTask, w, train)).toBeNull();
  });

  it("trains the body with the head in place: the shared body learns what the head does not carry", () => {
    const data = logisticRows(400, [1.5, -1], 0.8, 11);
    const opts = { epochs: 60, batchSize: 32, learningRate: 0.5, l2: 0, rng: seededRandom(3) };
    const init = new Float32Array(layout.bodySize);
    // A head that adds 1.2 to every logit (its bias), frozen.
    const head = new Float32Array(layout.headSize);
    head[layout.headSize - 1] = 1.2;
    const alone = trainBody(layout, init, data, { ...opts, rng: seededRandom(3) }).params;
    const withHead = trainBody(layout, init, data, { ...opts, rng: seededRandom(3), head }).params;
    const bias = (p: Float32Array) => p[layout.bodySize - 1]!;
    // The head's shift is taken off the body's bias; the kernel is the same model.
    expect(bias(withHead)).toBeCloseTo(bias(alone) - 1.2, 1);
    expect(withHead[0]).toBeCloseTo(alone[0]!, 1);
    // Body and head together score as the body trained alone.
    const together = scoreRows(layout, withHead, head, data);
    const single = scoreRows(layout, alone, null, data);
    let gap = 0;
    for (let i = 0; i < together.length; i++) gap = Math.max(gap, Math.abs(together[i]! - single[i]!));
    expect(gap).toBeLessThan(0.02);
    // The head on some rows only: on every row it is the head everywhere, on none it is no head.
    const few = { ...opts, epochs: 2 };
    const run = (extra: object) => trainBody(layout, init, data, { ...few, rng: seededRandom(5), ...extra }).params;
    const gapOf = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    // (Added row by row rather than folded into the output layer: equal up to float rounding.)
    expect(gapOf(run({ head, headRows: new Uint8Array(data.rows).fill(1) }), run({ head }))).toBeLessThan(1e-5);
    expect(gapOf(run({ head, headRows: new Uint8Array(data.rows) }), run({}))).toBeLessThan(1e-5);
    const half = Uint8Array.from({ length: data.rows }, (_, i) => i % 2);
    const mixed = run({ head, headRows: half });
    expect(gapOf(mixed, run({ head }))).toBeGreaterThan(1e-3);
    expect(gapOf(mixed, run({}))).toBeGreaterThan(1e-3);
    expect(() => run({ head, headRows: new Uint8Array(3) })).toThrow("headRows marks 3 rows, the data has 400");
    // A zero head is no head.
    expect(trainBody(layout, init, data, { ...opts, epochs: 2, rng: seededRandom(4), head: new Float32Array(layout.headSize) }).params).toEqual(trainBody(layout, init, data, { ...opts, epochs: 2, rng: seededRandom(4) }).params);
  });
});
