import { describe, expect, it } from "vitest";
import { issuesOf } from "../../test/support/schemas.ts";
import { countPredictions } from "../metrics/count-predictions.ts";
import { federatedEvaluation } from "./federated-evaluation.ts";
import { ModelCard } from "./model-card.ts";

const sha = (c: string) => c.repeat(64);
const counts = countPredictions(new Float64Array([0.85, 0.95, 0.65, 0.35, 0.75]), new Uint8Array([1, 1, 1, 0, 0]), 10);

const card = () => ({
  version: 2,
  run: "run-2025-06-01",
  parent: 1,
  createdAt: 1_750_000_000_000,
  configSha256: sha("c"),
  strategy: "fedavg",
  codec: "int8",
  model: { kind: "mlp", hidden: [16] },
  features: ["age", "cp=2"],
  artifacts: { weightsSha256: sha("a"), preprocessingSha256: sha("b") },
  privacy: [{ siteId: "site-a", epsilon: 1.2, delta: 1e-5, budget: 4 }],
  sites: [{ siteId: "site-a", rows: 500, positives: 120, window: { from: 1_700_000_000_000, to: 1_740_000_000_000 }, statsSha256: sha("d") }],
  evaluation: federatedEvaluation({ "site-a": counts }),
});

describe("ModelCard", () => {
  it("parses a card with its lineage, snapshot and evaluation", () => {
    // Execute / Assert
    expect(ModelCard.parse(card())).toEqual(card());
  });

  it("takes a first version without parent, privacy, artifacts or data window", () => {
    // Prepare
    const { privacy: _, artifacts: __, ...rest } = card();
    const first = { ...rest, version: 1, parent: null, sites: [{ siteId: "site-a", rows: 500, positives: 120, statsSha256: sha("d") }] };

    // Execute / Assert
    expect(issuesOf(ModelCard, first)).toEqual([]);
  });

  it.each([
    ["a parent that is not earlier", { parent: 2 }, [["parent", "parent must be an earlier version"]]],
    ["version 0", { version: 0, parent: null }, [["version", "Too small: expected number to be >=1"]]],
    ["a config hash that is not hex", { configSha256: "C".repeat(64) }, [["configSha256", "must be 64 lower-case hex digits"]]],
    ["repeated features", { features: ["age", "age"] }, [["features", "feature names must be unique"]]],
    ["no sites", { sites: [] }, [["sites", "Too small: expected array to have >=1 items"]]],
  ])("refuses %s", (_, change, issues) => {
    // Execute / Assert
    expect(issuesOf(ModelCard, { ...card(), ...change })).toEqual(issues);
  });

  it("refuses a snapshot with more positives than rows, a window backwards or a site twice", () => {
    // Prepare
    const snapshot = card().sites[0]!;
    const sites = [
      { ...snapshot, positives: 501 },
      { ...snapshot, siteId: "site-b", window: { from: 2, to: 1 } },
      { ...snapshot, siteId: "site-b" },
    ];

    // Execute / Assert
    expect(issuesOf(ModelCard, { ...card(), sites })).toEqual([
      ["sites.0.positives", "positives must not exceed rows"],
      ["sites.1.window", "window.from must not be after window.to"],
      ["sites", "site ids must be unique"],
    ]);
  });
});
