/**
 * The one-machine coordinator survives `kill -9`: a heart-disease federation (the recipe's SCAFFOLD,
 * four sites, three rounds) whose coordinator process is killed at four seeded points, in rounds
 * and in aggregation, and started again each time on the same data folder, ends with the same
 * model bytes as the same federation run without kills; the site runners wait the outages out.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickKillPoints, runCrashFederation, type CrashRun, type KillPoint } from "./support/crash-harness.ts";

const ROUNDS = 3;

describe("kill -9 of the one-machine coordinator at seeded points, each followed by a restart on its data folder", () => {
  let work: string;
  let reference: CrashRun;
  let crashed: CrashRun;
  let kills: KillPoint[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "consilium-crash-"));
    reference = await runCrashFederation({ workDir: join(work, "reference"), rounds: ROUNDS });
    kills = pickKillPoints(reference.sequence, 4, 16);
    crashed = await runCrashFederation({ workDir: join(work, "crashed"), rounds: ROUNDS, kills, timeoutMs: 120_000 });
  }, 170_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it("killed the coordinator at every point, in rounds and in aggregation", () => {
    expect(crashed.killed.map((k) => k.phase)).toEqual(kills.map((k) => k.phase));
    expect(new Set(kills.map((k) => k.phase))).toEqual(new Set(["round", "aggregation"]));
  });

  it("finishes the federation with every runner's evaluation: the runners waited each outage out", () => {
    expect([reference.finalPhase, crashed.finalPhase]).toEqual(["done", "done"]);
    expect([reference.evaluations, crashed.evaluations]).toEqual([4, 4]);
  });

  it("ends with the same bytes in every model version as the run without kills", () => {
    expect([...crashed.weights.keys()]).toEqual([...reference.weights.keys()]);
    expect(reference.weights.size).toBe(ROUNDS + 1);
    const refusedRetries = `${crashed.roundClosed} retried update posts refused ROUND_CLOSED after a restart`;
    for (const [version, bytes] of reference.weights) expect(crashed.weights.get(version)?.equals(bytes), `${version} (${refusedRetries})`).toBe(true);
  });
});
