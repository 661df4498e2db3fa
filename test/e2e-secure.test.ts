/**
 * End to end under secure aggregation: six site runners over HTTP, the embedded store and queue,
 * the coordinator's four phases per round. What the coordinator unmasks is exactly the plain sum of
 * the sites' quantised updates (mod 2^32) and its models follow from that sum alone; no object it
 * stored and no byte the sites sent holds one site's update; with 30 % of the sites dropping after
 * their upload every round still completes with the full sum, and beyond the threshold each round
 * is skipped with the reason.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decodeUpdate } from "../core/codec/index.ts";
import { silentLogger } from "../core/logger.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { ObjectStore } from "../functions/ports.ts";
import type { CoordinatorDeps } from "../functions/deps.ts";
import { keys } from "../functions/keys.ts";
import { RoundRecord } from "../core/schemas/round.ts";
import { readJson } from "../functions/repo.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { SecureAggregationPolicy, type SecureSession } from "../core/schemas/secure-aggregation.ts";
import { PrivacyPolicy } from "../core/schemas/privacy.ts";
import { keptCount } from "../core/codec/kept-count.ts";
import { addWrapping, readMasked, secureMean, unmaskSum } from "../core/secagg/index.ts";
import { readSecureInputs } from "../functions/use-cases/secure/index.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";

const SITES = 6;
const plan = (rounds: number, extra: Partial<SimulationPlan> = {}): SimulationPlan => ({
  ...smallPlan(SITES, 5, rounds),
  model: "mlp:16",
  secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: 2 }),
  ...extra,
});

interface RoundCheck {
  readonly record: RoundRecord;
  /** The coordinator's unmasked sum, recomputed from what it stored, and the plain sum of the codes the sites masked. */
  readonly unmasked: Uint32Array | null;
  readonly plainSum: Uint32Array;
  /** The model the round published minus its base, and the mean the plain sum decodes to. */
  readonly step: Float32Array | null;
  readonly mean: Float32Array | null;
}

interface Captured {
  readonly report: RunReport;
  readonly objects: Map<string, Uint8Array>;
  readonly sent: Uint8Array[];
  readonly rounds: RoundCheck[];
  /** `${round}/${siteId}` → the codes that site masked, and the masked vector it uploaded. */
  readonly codes: Map<string, Uint32Array>;
  readonly masked: Map<string, Uint32Array>;
}

const same = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

async function run(p: SimulationPlan, onSession?: (session: SecureSession) => void): Promise<Captured> {
  const objects = new Map<string, Uint8Array>();
  const sent: Uint8Array[] = [];
  const codes = new Map<string, Uint32Array>();
  const masked = new Map<string, Uint32Array>();
  const rounds: RoundCheck[] = [];
  // Every byte the runners send, to the coordinator or to the store.
  const recording: typeof fetch = async (input, init) => {
    const body = init?.body;
    if (typeof body === "string") sent.push(new TextEncoder().encode(body));
    else if (body instanceof Uint8Array) sent.push(body.slice());
    return fetch(input, init);
  };
  const report = await simulateOnce(p, 1, {
    logger: silentLogger,
    fetch: recording,
    onMasked: (siteId, round, c, m) => {
      codes.set(`${round}/${siteId}`, c.slice());
      masked.set(`${round}/${siteId}`, m.slice());
    },
    onStack: async (store: ObjectStore) => {
      for (const key of await store.list("")) objects.set(key, (await store.get(key))!);
      const deps = { store } as CoordinatorDeps;
      for (let r = 1; r <= p.rounds; r++) {
        const record = (await readJson(store, keys.round(r), RoundRecord))!;
        const inputs = await readSecureInputs(deps, r);
        onSession?.(inputs.session);
        const length = inputs.session.config.length;
        const plainSum = new Uint32Array(length);
        for (const { siteId } of inputs.posts) addWrapping(plainSum, codes.get(`${r}/${siteId}`)!);
        const maskedSum = new Uint32Array(length);
        const bits = inputs.session.config.quantisation.bits;
        for (const { siteId, post } of inputs.posts) addWrapping(maskedSum, readMasked((await store.get(keys.acceptedBin(r, siteId, post.manifest.sha256)))!, length, bits));
        let unmasked: Uint32Array | null = null;
        try {
          unmasked = unmaskSum(inputs.session.config, { adverts: inputs.adverts, shared: inputs.shared, manifests: inputs.posts.map((x) => x.post.manifest), maskedSum, reveals: inputs.reveals }).sum;
        } catch {
          unmasked = null;
        }
        let step: Float32Array | null = null;
        let mean: Float32Array | null = null;
        if (record.status === "closed" && !inputs.session.randk) {
          const model = async (v: number) => decodeUpdate((await store.get(keys.modelWeights(v)))!, { length }).values;
          const [after, before] = [await model(r), await model(record.baseVersion)];
          step = after.map((v, i) => v - before[i]!);
          const max = Math.max(...inputs.session.weights);
          const scaleSum = inputs.posts.reduce((a, x) => a + inputs.session.weights[inputs.session.participants.indexOf(x.siteId)]! / max, 0);
          mean = secureMean(plainSum.slice(), { spec: inputs.session.config.quantisation, summands: inputs.posts.length, scaleSum, length });
        }
        rounds.push({ record, unmasked, plainSum, step, mean });
      }
    },
  });
  return { report, objects, sent, rounds, codes, masked };
}

/** Whether `haystack` holds the bytes of `needle` anywhere. */
const holds = (haystack: Uint8Array, needle: Uint32Array) => Buffer.from(haystack).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength)) !== -1;

describe("secure aggregation composed with client-level privacy and random-k", () => {
  let dp: Captured;
  let randk: Captured;
  let int8: Captured;
  const sessions: SecureSession[] = [];
  const dpSessions: SecureSession[] = [];
  const int8Sessions: SecureSession[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    dp = await run(plan(2, { privacy: PrivacyPolicy.parse({ level: "client", epsilon: 50, clip: 1 }) }), (session) => dpSessions.push(session));
    randk = await run(plan(2, { codec: "randk:0.25+int8" }), (session) => sessions.push(session));
    // A 16-bit ring, opted into with a per-coordinate range. Whole models down, so that each model
    // is its base plus the round's mean exactly (an int8 down-link would round the move).
    int8 = await run(
      plan(3, { codec: "int8", downlinkCodec: "float32", secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: 2, bits: 16, range: 0.5 }) }),
      (session) => int8Sessions.push(session),
    );
  }, 180_000);

  it("under client-level privacy, each site adds its share of the noise for the five inputs the round must sum, and reports its ledger", () => {
    expect(dp.rounds.map((r) => r.record.status)).toEqual(["closed", "closed"]);
    // Six sites, t = 3: the noise is split over max(t + 1, ⌈0.7 · 6⌉) = 5 inputs, and no round sums fewer.
    for (const session of dpSessions) expect(session).toMatchObject({ noiseShares: 5, minSummands: 5, weights: Array(SITES).fill(1) });
    for (const r of dp.rounds) expect(same(r.unmasked!, r.plainSum)).toBe(true);
    expect(dp.report.aggregation).toBe("secure");
    expect(dp.report.privacy).toHaveLength(SITES);
    for (const p of dp.report.privacy ?? []) expect(p).toMatchObject({ level: "client", epsilon: expect.any(Number) });
    expect(dp.report.privacy!.every((p) => p.epsilon > 0 && p.epsilon <= 50)).toBe(true);
  });

  it("in a 16-bit ring (int8 federation, range 0.5): 2 bytes a value, the sum exact, the models moved by its mean, a useful model", () => {
    expect(int8.rounds.map((r) => r.record.status)).toEqual(["closed", "closed", "closed"]);
    for (const session of int8Sessions) expect(session.config.quantisation).toMatchObject({ bits: 16, range: 0.5, maxSummands: SITES });
    const masked = [...int8.objects].filter(([k]) => /\/secure\/masked-input\/[^/]+\.bin$/.test(k));
    expect(masked).toHaveLength(3 * SITES);
    expect(int8.report.pooled.global.auroc).toBeGreaterThan(0.7);
    for (const [, bytes] of masked) expect(bytes.byteLength).toBe(2 * int8Sessions[0]!.config.length);
    for (const r of int8.rounds) {
      expect(same(r.unmasked!, r.plainSum)).toBe(true);
      for (let i = 0; i < r.mean!.length; i++) expect(Math.abs(r.step![i]! - r.mean![i]!)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(r.mean![i]!));
    }
  });

  it("with random-k, every site masks the round's shared coordinates only, and the sum is exact", () => {
    expect(randk.rounds.map((r) => r.record.status)).toEqual(["closed", "closed"]);
    for (const r of randk.rounds) expect(same(r.unmasked!, r.plainSum)).toBe(true);
    for (const session of sessions) {
      expect(session.randk).toBeDefined();
      expect(session.config.length).toBe(session.randk!.kept);
      // A quarter of the body, rounded up, with the codec's gain body / kept.
      const body = Math.round(session.randk!.gain * session.randk!.kept);
      expect(session.randk!.kept).toBe(keptCount(0.25, body));
      expect(body).toBeGreaterThan(100);
    }
    const lengths = [...randk.codes.values()].map((c) => c.length);
    expect(new Set(lengths)).toEqual(new Set([sessions[0]!.randk!.kept]));
  });
});

describe("secure aggregation end to end, six sites", () => {
  let all: Captured;
  let dropouts: Captured;
  let beyond: Captured;

  beforeAll(async () => {
    await selectBackend("cpu");
    all = await run(plan(3));
    dropouts = await run(plan(3, { dropout: 0.3 }));
    beyond = await run(plan(2, { dropout: 0.5 }));
  }, 180_000);

  it("closes every round with all six masked inputs; the coordinator's unmasked sum is exactly the plain sum of the sites' codes", () => {
    expect(all.rounds.map((r) => r.record.status)).toEqual(["closed", "closed", "closed"]);
    for (const r of all.rounds) {
      expect(r.record.secure).toMatchObject({ participants: SITES, advertised: SITES, shared: SITES, masked: SITES });
      expect(r.unmasked).not.toBeNull();
      expect(same(r.unmasked!, r.plainSum)).toBe(true);
    }
    expect(all.codes.size).toBe(3 * SITES);
    expect(all.report.pooled.global.auroc).toBeGreaterThan(0.7);
  });

  it("publishes models that move by the mean the plain sum decodes to (FedAvg), to float32 rounding", () => {
    for (const r of all.rounds) {
      const { step, mean } = r;
      for (let i = 0; i < mean!.length; i++) expect(Math.abs(step![i]! - mean![i]!)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(mean![i]!));
    }
  });

  it("never stores, and never receives, a single site's update: no object and no request holds a site's codes", () => {
    expect(all.objects.size).toBeGreaterThan(50);
    expect(all.sent.length).toBeGreaterThan(50);
    // The search finds what is there: each masked upload, in the store and in what its site sent.
    for (const [key, m] of all.masked) {
      const [round, site] = key.split("/");
      expect(holds(all.objects.get(keys.maskedBin(Number(round), site!))!, m)).toBe(true);
      expect(all.sent.some((bytes) => holds(bytes, m))).toBe(true);
    }
    for (const [key, codes] of all.codes) {
      for (const [name, bytes] of all.objects) expect(holds(bytes, codes), `object ${name} holds the codes of ${key}`).toBe(false);
      for (const bytes of all.sent) expect(holds(bytes, codes)).toBe(false);
    }
    // The masked uploads are what the store holds of each site: none equals its codes in any coordinate.
    const masked = [...all.objects].filter(([k]) => /\/secure\/masked-input\/[^/]+\.bin$/.test(k));
    expect(masked).toHaveLength(3 * SITES);
    for (const [k, bytes] of masked) {
      const [, round, site] = /rounds\/0*(\d+)\/secure\/masked-input\/([^/]+)\.bin$/.exec(k)!;
      const codes = all.codes.get(`${round}/${site}`)!;
      expect(readMasked(bytes, codes.length).filter((v, i) => v === codes[i]).length).toBe(0);
    }
  });

  it("with 30 % of the sites dropping after their upload, every round completes with every masked input in its exact sum", () => {
    expect(dropouts.rounds.map((r) => r.record.status)).toEqual(["closed", "closed", "closed"]);
    for (const r of dropouts.rounds) {
      expect(r.record.secure).toMatchObject({ masked: SITES });
      expect(r.record.secure!.unmasked).toBeLessThanOrEqual(SITES - 2);
      expect(same(r.unmasked!, r.plainSum)).toBe(true);
    }
    expect(dropouts.report.pooled.global.auroc).toBeGreaterThan(0.7);
  });

  it("beyond the threshold, skips each round with the reason and finishes the federation from the initial model", () => {
    expect(beyond.rounds.map((r) => r.record.status)).toEqual(["skipped", "skipped"]);
    for (const r of beyond.rounds) {
      expect(r.record.reason).toMatch(/could not unmask the sum: .*needs 3 shares, only 2 of its neighbours revealed one/);
      expect(r.unmasked).toBeNull();
    }
    expect(beyond.report.sites).toHaveLength(SITES);
  });
});
