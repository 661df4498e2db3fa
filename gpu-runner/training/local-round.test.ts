import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { fedAvg } from "../../core/strategy/fedavg.ts";
import { scaffold } from "../../core/strategy/scaffold.ts";
import type { Strategy, SiteUpdate } from "../../core/strategy/strategy.ts";
import { concatRows, descend, logregGradient, logisticRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import { localRound, type Controls } from "./local-round.ts";
import { trainBody } from "./train.ts";

const close = (values: ArrayLike<number>, digits: number) => Array.from(values, (v) => expect.closeTo(v, digits));
const uniform = (n: number, seed: number, scale = 1) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
};
const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.hypot(...Array.from(a, (v, i) => v - (b[i] ?? 0)));

const layout = modelLayout({ kind: "logreg" }, 2);
const n = layout.bodySize;

describe("localRound", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("with controls but no training rows, sends a zero update and keeps its control", () => {
    // Prepare
    const empty: Dataset = { x: new Float32Array(0), y: new Uint8Array(0), rows: 0, dim: 2 };
    const controls: Controls = { server: uniform(n, 7), site: uniform(n, 8) };

    // Execute
    const round = localRound(layout, uniform(n, 1), empty, { epochs: 1, steps: 5, batchSize: 8, learningRate: 0.2, l2: 0, rng: seededRandom(1) }, controls);

    // Assert
    expect(Array.from(round.update)).toEqual(new Array(2 * n).fill(0));
    expect(Array.from(round.siteControl ?? [])).toEqual(Array.from(controls.site));
  });

  it("without controls, sends the trained body minus the base and keeps no control", () => {
    // Prepare
    const data = logisticRows(50, [1.5, -1], 0.2, 3);
    const base = uniform(n, 1);
    const opts = { epochs: 2, batchSize: 8, learningRate: 0.2, l2: 0.01 };
    const trained = trainBody(layout, base, data, { ...opts, rng: seededRandom(4) }).params;

    // Execute
    const round = localRound(layout, base, data, { ...opts, rng: seededRandom(4) }, null);

    // Assert
    expect(round.siteControl).toBeNull();
    expect(round.update).toHaveLength(n);
    expect(Array.from(round.update)).toEqual(close(trained.map((v, i) => v - (base[i] ?? 0)), 6));
    expect(Math.max(...Array.from(round.update, Math.abs))).toBeGreaterThan(0.01);
  });

  // Full batches make each step independent of shuffling; K comes from `steps` or from `epochs`.
  for (const [how, schedule, K] of [
    ["steps", { epochs: 1, steps: 6 }, 6],
    ["epochs", { epochs: 3 }, 3],
  ] as const) {
    it(`with controls, corrects by c − c_i and moves c_i as SCAFFOLD option II (K from ${how})`, () => {
      // Prepare
      const data = logisticRows(20, [1, -2], 0.5, 5);
      const lr = 0.2;
      const l2 = 0.01;
      const x = uniform(n, 2);
      const controls: Controls = { server: uniform(n, 3, 0.5), site: uniform(n, 4, 0.5) };
      const correction = controls.server.map((c, i) => c - (controls.site[i] ?? 0));
      const y = descend(x, (w) => logregGradient(w, data, l2), K, lr, correction).params;
      const siteNext = controls.site.map((ci, i) => ci - (controls.server[i] ?? 0) + ((x[i] ?? 0) - (y[i] ?? 0)) / (K * lr));

      // Execute
      const round = localRound(layout, x, data, { ...schedule, batchSize: 20, learningRate: lr, l2, rng: seededRandom(1) }, controls);

      // Assert
      expect(round.update).toHaveLength(2 * n);
      expect(Array.from(round.siteControl ?? [])).toEqual(close(siteNext, 5));
      expect(Array.from(round.update.subarray(0, n))).toEqual(close(y.map((v, i) => v - (x[i] ?? 0)), 5));
      expect(Array.from(round.update.subarray(n))).toEqual(close(siteNext.map((v, i) => v - (controls.site[i] ?? 0)), 5));
    });
  }

  it("leaves the site holding its mean gradient along the local path as its new control", () => {
    // Prepare: option II's c_i+ = c_i − c + (x − y)/(K·lr) telescopes to (1/K)·Σ_k ∇f_i(y_k).
    const data = logisticRows(16, [-1, 2], -0.3, 8);
    const K = 8;
    const lr = 0.3;
    const base = uniform(n, 5);
    const controls: Controls = { server: uniform(n, 6), site: uniform(n, 7) };
    const correction = controls.server.map((c, i) => c - (controls.site[i] ?? 0));
    const path = descend(base, (w) => logregGradient(w, data), K, lr, correction).gradients;
    const meanGradient = Array.from({ length: n }, (_, i) => path.reduce((s, g) => s + (g[i] ?? 0), 0) / K);

    // Execute
    const round = localRound(layout, base, data, { epochs: 1, steps: K, batchSize: 16, learningRate: lr, l2: 0, rng: seededRandom(1) }, controls);

    // Assert
    expect(Array.from(round.siteControl ?? [])).toEqual(close(meanGradient, 5));
  });
});

/**
 * Rounds of full-batch local training at two sites, aggregated in-process by `strategy`, with
 * each site's control carried from round to round as its runner would.
 */
function federate(strategy: Strategy, sites: readonly Dataset[], rounds: number, steps: number, lr: number, l2: number): Float32Array[] {
  let global: Float32Array = new Float32Array(n);
  let state = strategy.init(n);
  const siteControls: Float32Array[] = sites.map(() => new Float32Array(n));
  const models: Float32Array[] = [];
  for (let r = 0; r < rounds; r++) {
    const updates: SiteUpdate[] = sites.map((data, s) => {
      const controls = strategy.controlVariates ? { server: state.vectors.c ?? new Float32Array(n), site: siteControls[s] ?? new Float32Array(n) } : null;
      const round = localRound(layout, global, data, { epochs: 1, steps, batchSize: data.rows, learningRate: lr, l2, rng: seededRandom(r) }, controls);
      if (round.siteControl) siteControls[s] = round.siteControl;
      const control = controls ? round.update.subarray(n) : undefined;
      return { siteId: `site-${s}`, weight: data.rows, delta: round.update.subarray(0, n), ...(control && { control }) };
    });
    const result = strategy.aggregate({ global, updates }, state);
    if (result.kind !== "model") throw new Error(`round ${r + 1} skipped: ${result.reason}`);
    global = result.model;
    state = result.state;
    models.push(global);
  }
  return models;
}

describe("client drift", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("leaves FedAvg at a drifted fixed point and brings SCAFFOLD to the pooled optimum", () => {
    // Prepare: the same outcome model, but one site's patients sit far right of the other's, so
    // the sites' own optima pull the shared intercept in opposite directions.
    const sites = [logisticRows(64, [1, -1], 0, 1, 2), logisticRows(64, [1, -1], 0, 2, -2)];
    const pooled = concatRows(sites);
    const lr = 0.5;
    const l2 = 0.01;
    const optimum = descend(new Float64Array(n), (w) => logregGradient(w, pooled, l2), 4000, lr).params;

    // Execute
    const fedavg = federate(fedAvg(), sites, 30, 20, lr, l2);
    const withControls = federate(scaffold(), sites, 30, 20, lr, l2);

    // Assert
    expect(Math.max(...Array.from(logregGradient(optimum, pooled, l2), Math.abs))).toBeLessThan(1e-9);
    const [fedavgLast, fedavgBefore] = [fedavg.at(-1) ?? [], fedavg.at(-2) ?? []];
    // FedAvg has stopped moving, away from the optimum: the drift is its fixed point, not slowness.
    expect(distance(fedavgLast, fedavgBefore)).toBeLessThan(1e-4);
    expect(distance(fedavgLast, optimum)).toBeGreaterThan(0.1);
    expect(distance(withControls.at(-1) ?? [], optimum)).toBeLessThan(1e-3);
    // Round 1 starts from zero controls, where SCAFFOLD is FedAvg.
    expect(Array.from(withControls[0] ?? [])).toEqual(close(fedavg[0] ?? [], 6));
  });
});
