import { describe, expect, it } from "vitest";
import { RunReport } from "../schemas/report.ts";
import { FederationStatus } from "../schemas/status.ts";
import { buildRunReport } from "./build-run-report.ts";

const score = (siteId: string, distance: number, agreement: number, action: "keep" | "down-weight" | "quarantine", gain?: number) => ({
  siteId,
  distance,
  agreement,
  alignment: agreement,
  norm: distance,
  ...(gain !== undefined && { gain }),
  action,
  factor: action === "keep" ? 1 : action === "quarantine" ? 0 : 0.5,
  reason: "test",
});

function status(scores: (ReturnType<typeof score>[] | undefined)[]) {
  return FederationStatus.parse({
    federation: "sim",
    strategy: "fedavg",
    codec: "float32",
    rounds: scores.length,
    state: { phase: "done", round: scores.length, modelVersion: scores.length, updatedAt: 0 },
    sites: [
      { id: "a", name: "Alpha", statsReported: true, updates: 2, evaluated: false },
      { id: "b", name: "Beta", statsReported: true, updates: 2, evaluated: false },
    ],
    roundLog: scores.map((s, i) => ({
      round: i + 1,
      baseVersion: i,
      status: "closed",
      openedAt: 0,
      deadline: 1,
      resultVersion: i + 1,
      updates: 2,
      bytesUp: 0,
      bytesDown: 0,
      baseModel: null,
      ...(s && { scores: s }),
    })),
    rejections: [],
    evaluations: [],
    final: null,
  });
}

describe("buildRunReport with contribution scores", () => {
  it("lists every site quarantined in any round and each round's scores by site", () => {
    // Prepare
    const s = status([
      [score("a", 1, 0.9, "keep"), score("b", 9.1, -0.8, "down-weight")],
      [score("a", 0.8, 0.95, "keep"), score("b", 8, -0.9, "quarantine", -0.1)],
    ]);

    // Execute
    const report = RunReport.parse(buildRunReport({ seed: 1, wallSeconds: 1, status: s, centralized: new Map() }));

    // Assert
    expect(report.quarantined).toEqual(["b"]);
    expect(report.firstQuarantined).toEqual({ b: 2 });
    expect(report.rounds[1]?.scores).toEqual({
      a: { distance: 0.8, agreement: 0.95, alignment: 0.95, norm: 0.8, action: "keep" },
      b: { distance: 8, agreement: -0.9, alignment: -0.9, norm: 8, gain: -0.1, action: "quarantine" },
    });
  });

  it("leaves both out when the status holds no scores", () => {
    // Execute
    const report = buildRunReport({ seed: 1, wallSeconds: 1, status: status([undefined, undefined]), centralized: new Map() });

    // Assert
    expect(report).not.toHaveProperty("quarantined");
    expect(report.rounds.every((r) => !("scores" in r))).toBe(true);
  });
});
