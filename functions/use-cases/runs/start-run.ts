/**
 * @module
 * Starting a run: its record written once (of two starters one wins; the other goes on with the
 * winner's record), its copy of the agreement and its first state under its own prefix, then the
 * active-run pointer. Every step is write-once or rewrites the same value, so the cron tick
 * finishes a start that a crash cut short.
 */
import { configHash } from "../../../core/registry/index.ts";
import { RunRecord, type TriggerRecord } from "../../../core/schemas/consortium.ts";
import type { FederationConfig, FederationState } from "../../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, writeJson } from "../../repo.ts";
import { currentChampion } from "../registry/champion.ts";
import { consortiumDeps, newestRunSeq, scopeToRun } from "./run-scope.ts";
import { auditCoordinator } from "../audit/append-audit.ts";

/** A run's federation id: the consortium's for the first run, with `-r{seq}` after it for later ones (63 characters at most). */
export function runId(consortiumId: string, seq: number): string {
  if (seq === 1) return consortiumId;
  const suffix = `-r${seq}`;
  return consortiumId.slice(0, 63 - suffix.length).replace(/-+$/, "") + suffix;
}

/**
 * Starts run `seq` with the triggers it takes; answers the run's record, this call's or the
 * record of whoever started run `seq` first.
 */
export async function startRun(
  deps: CoordinatorDeps,
  consortium: FederationConfig,
  seq: number,
  triggers: readonly TriggerRecord[],
): Promise<{ record: RunRecord; started: boolean }> {
  const root = consortiumDeps(deps);
  const id = runId(consortium.id, seq);
  const config: FederationConfig = { ...consortium, id };
  const parent = seq === 1 ? null : ((await currentChampion(root))?.version ?? null);
  const record: RunRecord = {
    seq,
    id,
    startedAt: root.clock.now(),
    triggers: [...triggers],
    consumedThrough: triggers.at(-1)?.key ?? null,
    parent,
    configSha256: configHash(config),
  };
  const started = await writeJson(root.store, keys.run(seq), record, { ifAbsent: true });
  const kept = started ? record : await mustReadJson(root.store, keys.run(seq), RunRecord, "CORRUPT_STATE", `run ${seq}`);
  await finishStart(root, consortium, kept);
  if (started) {
    root.logger.info("run started", { run: kept.id, seq, triggers: kept.triggers.map((t) => t.kind), parent: kept.parent });
    await auditCoordinator(root, "run.start", `run/${seq}`, { id: kept.id, triggers: kept.triggers.map((t) => ({ kind: t.kind, reason: t.reason })), parent: kept.parent });
  }
  return { record: kept, started };
}

/** The run's agreement and first state (each written once), then the pointer: what a start cut short still owes. */
export async function finishStart(deps: CoordinatorDeps, consortium: FederationConfig, record: RunRecord): Promise<void> {
  const root = consortiumDeps(deps);
  const run = scopeToRun(root, record.seq);
  await writeJson(run.store, keys.federation, { ...consortium, id: record.id } satisfies FederationConfig, { ifAbsent: true });
  const state: FederationState = { phase: "stats", round: 0, modelVersion: 0, updatedAt: record.startedAt };
  await writeJson(run.store, keys.state, state, { ifAbsent: true });
  // A start finished late never points the sites back at an older run.
  if ((await newestRunSeq(root)) === record.seq) await writeJson(root.store, keys.activeRun, { seq: record.seq });
}
