/**
 * Runners ride out a coordinator and a store that stop answering for a while: refused connections,
 * 503s with Retry-After and 502s, on requests chosen by count (not by time), are waited out with
 * backoff, and the federation ends with the same model bytes as the run without faults.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { sha256Hex } from "../core/codec/index.ts";
import { silentLogger } from "../core/logger.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

const plan: SimulationPlan = {
  sites: syntheticSites({ sites: 3, trainRows: 120, testRows: 40, seed: 3 }),
  features: syntheticSpec,
  model: "mlp:4",
  training: { localEpochs: 1, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 1, headL2: 0.01 },
  rounds: 4,
  strategy: "fedavg",
  codec: "int8",
  roundDeadlineSeconds: 600,
};

async function modelDigests(store: ObjectStore): Promise<string[]> {
  const keys = (await store.list("models/")).filter((k) => k.endsWith("weights.bin")).sort();
  return Promise.all(keys.map(async (k) => `${k} ${sha256Hex((await store.get(k)) ?? new Uint8Array())}`));
}

/** Passes requests through, but answers requests `from` to `from + count - 1` (in order of sending) with a fault, cycling through three kinds. */
function outage(from: number, count: number) {
  let sent = 0;
  const faults = { refused: 0, busy: 0, badGateway: 0 };
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const k = sent++;
    if (k >= from && k < from + count) {
      const kind = k % 3;
      if (kind === 0) {
        faults.refused++;
        throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1") });
      }
      if (kind === 1) {
        faults.busy++;
        return new Response("restarting", { status: 503, headers: { "retry-after": "0" } });
      }
      faults.badGateway++;
      return new Response("bad gateway", { status: 502 });
    }
    return fetch(input, init);
  }) as typeof fetch;
  return { fetchFn, faults, sent: () => sent };
}

describe("runners wait out an outage of the coordinator and the store", () => {
  let clean: string[] = [];
  let faulty: string[] = [];
  let faults = { refused: 0, busy: 0, badGateway: 0 };

  beforeAll(async () => {
    await selectBackend("cpu");
    await simulateOnce(plan, 1, { logger: silentLogger, onStack: async (store) => void (clean = await modelDigests(store)) });
    const o = outage(25, 60);
    faults = o.faults;
    await simulateOnce(plan, 1, { logger: silentLogger, fetch: o.fetchFn, onStack: async (store) => void (faulty = await modelDigests(store)) });
  }, 240_000);

  it("ends with the same model bytes as the run without faults", () => {
    expect(faults).toEqual({ refused: 20, busy: 20, badGateway: 20 });
    expect(clean.length).toBe(plan.rounds + 1);
    expect(faulty).toEqual(clean);
  });
});
