/**
 * The coordinator's aggregation paths pinned byte for byte: for one seed, every model a federation
 * publishes (weights and, for SCAFFOLD, the server control) hashes to the digest recorded in
 * `fixtures/model-bytes.json`. Each plan takes another path of the aggregate job: streamed mean
 * (float32, int8 with a compressed down-link, a server optimizer, control variates), decoded
 * updates (a robust aggregator, contribution scoring) and regional tiers. A change that moves any
 * byte of any model fails here; one that does so on purpose records the digests again with
 * `CONSILIUM_RECORD_MODEL_BYTES=1 npx vitest run test/model-bytes.test.ts` and says why.
 * (Secure rounds draw their stochastic rounding from node:crypto, so their bytes are not a
 * function of the seed; test/e2e-secure.test.ts checks their sums exactly instead.)
 */
import { readFile, writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { silentLogger } from "../core/logger.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { bytesPlan, modelDigests } from "./support/model-bytes.ts";

const FIXTURE = new URL("./fixtures/model-bytes.json", import.meta.url);
const RECORD = process.env.CONSILIUM_RECORD_MODEL_BYTES === "1";

const base = bytesPlan;

const plans: Record<string, SimulationPlan> = {
  "fedavg float32 (streamed)": base,
  "fedavg int8, int8 down-link (streamed kernel)": { ...base, codec: "int8", downlinkCodec: "int8" },
  "fedadam top-k (decoded sparse)": { ...base, strategy: "fedadam", codec: "topk:0.25+int8" },
  "scaffold (control variates)": { ...base, strategy: "scaffold" },
  "median (decoded)": { ...base, strategy: "median" },
  "robust with scoring": { ...base, strategy: "robust", scoring: { enabled: true } },
  "regions, fedavg across them": { ...base, regions: [{ name: "eu", sites: [0, 1] }, { name: "us", sites: [2, 3] }] },
};


describe("the same seed publishes the same model bytes on every aggregation path", () => {
  const seen: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    await selectBackend("cpu");
    for (const [name, plan] of Object.entries(plans)) {
      await simulateOnce(plan, 1, { logger: silentLogger, onStack: async (store) => void (seen[name] = await modelDigests(store)) });
    }
    if (RECORD) await writeFile(FIXTURE, JSON.stringify(seen, null, 2) + "\n");
  }, 600_000);

  for (const name of Object.keys(plans)) {
    it(name, async () => {
      const recorded = JSON.parse(await readFile(FIXTURE, "utf8")) as Record<string, Record<string, string>>;
      const digests = seen[name];
      // Model 0 and one model per round (each with its control under SCAFFOLD).
      expect(Object.keys(digests ?? {}).length).toBeGreaterThanOrEqual(base.rounds + 1);
      expect(digests).toEqual(recorded[name]);
    });
  }
});
