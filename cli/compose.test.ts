import { describe, expect, it } from "vitest";
import { AsyncPolicy } from "../core/async/async-policy.ts";
import { PrivacyPolicy } from "../core/schemas/privacy.ts";
import { SecureAggregationPolicy } from "../core/schemas/secure-aggregation.ts";
import { syntheticSites, syntheticSpec } from "../test/fixtures/synthetic-sites.ts";
import { UsageError } from "./commands/flags.ts";
import { simulateCommand } from "./commands/simulate-command.ts";
import { composeStrategy } from "./compose.ts";
import { defaultRecipe } from "./recipes.ts";
import { planProblem, type SimulationPlan } from "./simulate.ts";

const plan: SimulationPlan = {
  sites: syntheticSites({ sites: 6, trainRows: 20, testRows: 10, seed: 1 }),
  features: syntheticSpec,
  model: defaultRecipe.model,
  training: defaultRecipe.training,
  rounds: 2,
  strategy: defaultRecipe.strategy,
  codec: "float32",
  roundDeadlineSeconds: 600,
};
const secure = { secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: 5 }) };
const asynchronous = { async: AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5 }) };
const clientDp = { privacy: PrivacyPolicy.parse({ level: "client", epsilon: 8 }) };
const regions = { regions: [{ name: "eu", sites: [0, 1, 2] }, { name: "us", sites: [3, 4, 5] }] };

/** What the CLI makes of `plan` with the recipe's strategy (`explicit` false) or one the flags gave. */
function compose(overrides: Partial<SimulationPlan>, explicit = false) {
  const p = { ...plan, ...overrides };
  try {
    return composeStrategy(p.strategy, explicit, (strategy) => planProblem({ ...p, strategy }, 1));
  } catch (err) {
    if (err instanceof UsageError) return { refused: err.message };
    throw err;
  }
}

describe("composing a federation from a recipe and flags", () => {
  it("keeps the recipe's strategy where it runs", () => {
    expect(compose({})).toEqual({ strategy: "scaffold" });
    expect(compose({ codec: "int8" })).toEqual({ strategy: "scaffold" });
  });

  it("gives the recipe's strategy way to FedAvg, and says why, wherever the flags ask for what it cannot do", () => {
    const cases = [secure, asynchronous, clientDp, regions].map((o) => compose(o));
    expect(cases.map((c) => ("strategy" in c ? c.strategy : c.refused))).toEqual(["fedavg", "fedavg", "fedavg", "fedavg"]);
    expect(cases.map((c) => ("note" in c ? c.note : ""))).toEqual([
      expect.stringMatching(/^strategy fedavg instead of the recipe's scaffold: secure aggregation gives the coordinator only the sum of the updates: scaffold needs each update/),
      "strategy fedavg instead of the recipe's scaffold: asynchronous rounds cannot be used with scaffold: its control variates assume every update starts from the round's model",
      "strategy fedavg instead of the recipe's scaffold: client-level privacy cannot be used with scaffold: its control variates would leave the site without noise",
      expect.stringMatching(/^strategy fedavg instead of the recipe's scaffold: with regions the global coordinator's sites are the regions' relays/),
    ]);
  });

  it("refuses what the flags themselves ask for when it cannot run together, with the coordinator's reason", () => {
    expect(compose({ ...secure, strategy: "median" }, true)).toEqual({ refused: expect.stringMatching(/^these flags cannot run together: secure aggregation gives the coordinator only the sum of the updates: median needs each update/) });
    expect(compose({ ...asynchronous, strategy: "scaffold" }, true)).toEqual({ refused: expect.stringMatching(/asynchronous rounds cannot be used with scaffold/) });
    // FedAvg would not mend these: the flags' own codec and scoring are refused, default strategy or not.
    expect(compose({ ...secure, codec: "topk:0.1+int8" })).toEqual({ refused: expect.stringMatching(/top-k gives each site its own/) });
    expect(compose({ ...regions, codec: "int8" })).toEqual({ refused: expect.stringMatching(/a region's sites send float32 updates/) });
    expect(compose({ ...secure, scoring: { enabled: true } })).toEqual({ refused: expect.stringMatching(/contribution scoring compares each site's update/) });
    // What the coordinator's schema refuses is refused here too, before anything starts.
    expect(compose({ training: { ...plan.training, proximalMu: 5 } })).toEqual({ refused: expect.stringMatching(/^these flags cannot run together: training/) });
    expect(compose({ strategy: "clip:2,scaffold" }, true)).toEqual({ refused: expect.stringMatching(/^these flags cannot run together: .*scaffold/) });
  });

  it("stops consilium simulate with a usage error before anything runs", async () => {
    await expect(simulateCommand(["--dataset", "heart-disease", "--mode", "async", "--strategy", "scaffold", "--quiet", "--backend", "cpu"])).rejects.toThrow(UsageError);
  });
});
