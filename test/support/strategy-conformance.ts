/**
 * @module
 * Properties every aggregation strategy must have, registered as vitest tests by
 * `strategyConformance`. `strategies.conformance.test.ts` runs it for every stage in the registry
 * and for compositions of them, so a new stage is held to it by joining `createStrategy`.
 */
import { describe, expect, it } from "vitest";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import { decodeState, encodeState } from "../../core/strategy/state-codec.ts";
import type { AggregateResult, SiteUpdate, Strategy, StrategyState } from "../../core/strategy/strategy.ts";

export interface ConformanceOptions {
  /**
   * The model expected after one round, from the strategy's initial state, in which every site
   * sent the same `delta` (the strategy's fixed point). Leave out when it has no closed form.
   */
  readonly consensus?: (global: Float32Array, delta: Float32Array) => Float32Array;
  /** Largest accepted |actual − expected| / max(1, |expected|) where results may differ by rounding. */
  readonly tolerance?: number;
}

const DIM = 7;

/** Reproducible values in [-spread, spread) from a seeded mulberry32 stream. */
export function seededVector(length: number, seed: number, spread = 1): Float32Array {
  const out = new Float32Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * spread;
  }
  return out;
}

/** Fails with the first index where `actual` and `expected` differ by more than `tolerance`. */
export function expectClose(actual: Float32Array, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const error = Math.abs(a - e) / Math.max(1, Math.abs(e));
    if (!(error <= tolerance)) expect.fail(`index ${i}: got ${a}, expected ${e} (relative error ${error} > ${tolerance})`);
  }
}

/** Bytes of a float vector, so that "bit-identical" also tells -0 from 0 and one NaN from another. */
const bits = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();

/** A deep copy, so that a later comparison sees whether the strategy wrote into its input. */
function copyState(s: StrategyState): StrategyState {
  const vectors: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(s.vectors)) vectors[k] = v.slice();
  return { scalars: { ...s.scalars }, vectors };
}

function modelOf(result: AggregateResult): Float32Array {
  if (result.kind !== "model") return expect.fail(`expected a model, got a skip: ${result.reason}`);
  return result.model;
}

// Every update carries a control delta too, so strategies with control variates (SCAFFOLD) run the same suite.
const update = (siteId: string, delta: Float32Array, weight: number): SiteUpdate => ({ siteId, delta, weight, control: delta.map((v) => -0.5 * v) });

/** Three rounds of varied updates, each round's deltas from its own seed. */
const roundsOfUpdates = (dim: number): SiteUpdate[][] =>
  [1, 2, 3].map((r) => [
    update("site-a", seededVector(dim, 100 * r + 1, 0.5), 10 + r),
    update("site-b", seededVector(dim, 100 * r + 2, 0.5), 25),
    update("site-c", seededVector(dim, 100 * r + 3, 0.5), 3 * r),
  ]);

/**
 * Registers the conformance tests for the strategy `make` builds (a fresh one per test).
 *
 * @example
 * strategyConformance("fedavg", () => createStrategy("fedavg"), { consensus: (g, d) => g.map((x, i) => x + d[i]!) });
 */
export function strategyConformance(label: string, make: () => Strategy, options: ConformanceOptions = {}): void {
  const tolerance = options.tolerance ?? 1e-6;

  describe(`strategy conformance: ${label}`, () => {
    it("rebuilds itself from its spec, with identical results", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 9);
      const [updates = []] = roundsOfUpdates(DIM);

      // Execute
      const rebuilt = createStrategy(strategy.spec);

      // Assert
      expect(rebuilt.spec).toBe(strategy.spec);
      const a = strategy.aggregate({ global, updates }, strategy.init(DIM));
      const b = rebuilt.aggregate({ global, updates }, rebuilt.init(DIM));
      expect(bits(modelOf(b))).toEqual(bits(modelOf(a)));
    });

    it("leaves the model unchanged when every delta is zero", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 4, 3);
      const zero = new Float32Array(DIM);
      const updates = [update("site-a", zero, 5), update("site-b", zero.slice(), 12)];

      // Execute
      const model = modelOf(strategy.aggregate({ global, updates }, strategy.init(DIM)));

      // Assert
      expectClose(model, global, tolerance);
    });

    it("treats sites that all send the same delta as one site sending it", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 5);
      const delta = seededVector(DIM, 6, 0.3);
      const same = [update("site-a", delta, 3), update("site-b", delta.slice(), 11), update("site-c", delta.slice(), 1)];

      // Execute
      const many = modelOf(strategy.aggregate({ global, updates: same }, strategy.init(DIM)));
      const one = modelOf(strategy.aggregate({ global, updates: [update("site-a", delta, 15)] }, strategy.init(DIM)));

      // Assert
      expectClose(many, one, tolerance);
      if (options.consensus) expectClose(many, options.consensus(global, delta), tolerance);
    });

    it("ignores a site with weight 0, however large its delta", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 7);
      const a = update("site-a", seededVector(DIM, 8, 0.2), 4);
      const b = update("site-b", seededVector(DIM, 9, 0.2), 9);
      const loud = update("site-z", seededVector(DIM, 10, 1000), 0);

      // Execute
      const with0 = modelOf(strategy.aggregate({ global, updates: [a, loud, b] }, strategy.init(DIM)));
      const without = modelOf(strategy.aggregate({ global, updates: [a, b] }, strategy.init(DIM)));

      // Assert
      expectClose(with0, without, tolerance);
    });

    it("depends on weights only through their ratios: doubling every weight changes nothing", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 11);
      const [updates = []] = roundsOfUpdates(DIM);
      const doubled = updates.map((u) => update(u.siteId, u.delta, 2 * u.weight));

      // Execute
      const base = modelOf(strategy.aggregate({ global, updates }, strategy.init(DIM)));
      const twice = modelOf(strategy.aggregate({ global, updates: doubled }, strategy.init(DIM)));

      // Assert
      expectClose(twice, base, tolerance);
    });

    it("does not depend on the order the updates arrive in", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 12);
      const [updates = []] = roundsOfUpdates(DIM);

      // Execute
      const forward = modelOf(strategy.aggregate({ global, updates }, strategy.init(DIM)));
      const backward = modelOf(strategy.aggregate({ global, updates: [...updates].reverse() }, strategy.init(DIM)));

      // Assert
      expectClose(backward, forward, tolerance);
    });

    it("moves the model when the sites agree on a non-zero delta", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 13);
      const delta = new Float32Array(DIM).fill(0.25);

      // Execute
      const model = modelOf(strategy.aggregate({ global, updates: [update("site-a", delta, 1)] }, strategy.init(DIM)));

      // Assert
      for (let i = 0; i < DIM; i++) expect(model[i]).toBeGreaterThan(global[i] as number);
    });

    it.each([
      ["no updates", [] as SiteUpdate[]],
      ["only updates of weight 0", [update("site-a", new Float32Array(DIM).fill(1), 0), update("site-b", new Float32Array(DIM), 0)]],
    ])("skips the round with a reason and the state unchanged when it has %s", (_, updates) => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 14);
      const after = strategy.aggregate({ global, updates: roundsOfUpdates(DIM)[0] ?? [] }, strategy.init(DIM)).state;
      const before = copyState(after);

      // Execute
      const result = strategy.aggregate({ global, updates }, after);

      // Assert
      expect(result.kind).toBe("skip");
      expect(result.kind === "skip" ? result.reason : "").not.toBe("");
      expect(result.state).toEqual(before);
      expect(encodeState(result.state)).toEqual(encodeState(before));
    });

    it("rejects a delta of the wrong length, naming the site", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 15);
      const updates = [update("site-a", seededVector(DIM, 16), 3), update("site-short", new Float32Array(DIM - 2), 5)];

      // Execute
      const run = () => strategy.aggregate({ global, updates }, strategy.init(DIM));

      // Assert
      expect(run).toThrow(`update from site-short has ${DIM - 2} values, expected ${DIM}`);
    });

    it("rejects a delta of the wrong length even from a site of weight 0", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 17);
      const updates = [update("site-a", seededVector(DIM, 18), 3), update("site-long", new Float32Array(DIM + 1), 0)];

      // Execute
      const run = () => strategy.aggregate({ global, updates }, strategy.init(DIM));

      // Assert
      expect(run).toThrow(`update from site-long has ${DIM + 1} values, expected ${DIM}`);
    });

    it("writes into none of its inputs and returns a model of the global's length", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 19);
      const rounds = roundsOfUpdates(DIM);
      let state = strategy.init(DIM);
      state = strategy.aggregate({ global, updates: rounds[0] ?? [] }, state).state;
      const updates = rounds[1] ?? [];
      const [globalBits, deltaBits, stateBefore] = [bits(global), updates.map((u) => bits(u.delta)), copyState(state)];

      // Execute
      const result = strategy.aggregate({ global, updates }, state);

      // Assert
      expect(bits(global)).toEqual(globalBits);
      expect(updates.map((u) => bits(u.delta))).toEqual(deltaBits);
      expect(state).toEqual(stateBefore);
      const model = modelOf(result);
      expect(model.length).toBe(DIM);
      expect(model).not.toBe(global);
      expect(model.every(Number.isFinite)).toBe(true);
    });

    it("gives bit-identical results for identical inputs", () => {
      // Prepare
      const strategy = make();
      const global = seededVector(DIM, 20);
      const [updates = []] = roundsOfUpdates(DIM);

      // Execute
      const first = strategy.aggregate({ global, updates }, strategy.init(DIM));
      const second = make().aggregate({ global: global.slice(), updates }, make().init(DIM));

      // Assert
      expect(bits(modelOf(second))).toEqual(bits(modelOf(first)));
      expect(encodeState(second.state)).toEqual(encodeState(first.state));
    });

    it("round-trips its initial state through encodeState and decodeState", () => {
      // Prepare
      const state = make().init(DIM);

      // Execute
      const decoded = decodeState(encodeState(state));

      // Assert
      expect(decoded).toEqual(state);
    });

    it("continues bit-identically from a decoded state as from the in-memory one, over 3 rounds", () => {
      // Prepare: one coordinator keeps the state in memory, the other stores and reloads it each round.
      const strategy = make();
      let memGlobal: Float32Array = seededVector(DIM, 21);
      let storedGlobal: Float32Array = memGlobal.slice();
      let memState = strategy.init(DIM);
      let stored = encodeState(make().init(DIM));

      for (const updates of roundsOfUpdates(DIM)) {
        // Execute
        const mem = strategy.aggregate({ global: memGlobal, updates }, memState);
        const fromStore = make().aggregate({ global: storedGlobal, updates }, decodeState(stored));

        // Assert
        expect(bits(modelOf(fromStore))).toEqual(bits(modelOf(mem)));
        expect(encodeState(fromStore.state)).toEqual(encodeState(mem.state));
        memGlobal = modelOf(mem);
        memState = mem.state;
        storedGlobal = modelOf(fromStore);
        stored = encodeState(fromStore.state);
      }
    });
  });
}
