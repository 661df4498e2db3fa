/**
 * @module
 * Reasons to train, each written once under `consortium/triggers/` and named by its time, so
 * listing order is arrival order. A trigger that arrives while a run trains waits; the next run
 * to start takes every pending one (coalesced) and records them.
 */
import { randomBytes } from "node:crypto";
import { RunRecord, TriggerRecord, type TriggerKind } from "../../../core/schemas/consortium.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { consortiumDeps } from "./run-scope.ts";

/** Records a trigger (named by `at`, now by default); answers it. */
export async function recordTrigger(deps: CoordinatorDeps, kind: TriggerKind, reason: string, at?: number): Promise<TriggerRecord> {
  const root = consortiumDeps(deps);
  const when = at ?? root.clock.now();
  const trigger: TriggerRecord = { key: keys.trigger(when, kind, randomBytes(6).toString("hex")), kind, at: when, reason };
  await writeJson(root.store, trigger.key, trigger, { ifAbsent: true });
  root.logger.info("run triggered", { kind, reason });
  return trigger;
}

/**
 * Records a trigger once for `tag` however often it is raised (a schedule slot, a site's drift
 * since a run started): the trigger itself, written if absent under `consortium/trigger-tags/`,
 * claims the tag, and is then written where triggers are listed. A claimer that died between the
 * two writes is finished by the next raise of the tag. Answers the trigger when this call claimed
 * the tag, null when it was claimed already.
 */
export async function raiseOnce(deps: CoordinatorDeps, kind: TriggerKind, reason: string, tag: string, at?: number): Promise<TriggerRecord | null> {
  const root = consortiumDeps(deps);
  const when = at ?? root.clock.now();
  const trigger: TriggerRecord = { key: keys.trigger(when, kind, tag), kind, at: when, reason };
  const claimed = await writeJson(root.store, keys.triggerTag(kind, tag), trigger, { ifAbsent: true });
  const kept = claimed ? trigger : await readJson(root.store, keys.triggerTag(kind, tag), TriggerRecord).catch(() => null);
  if (kept === null) {
    root.logger.warn("a trigger's claim does not read; the tag stays spent", { kind, tag });
    return null;
  }
  await writeJson(root.store, kept.key, kept, { ifAbsent: true });
  if (claimed) root.logger.info("run triggered", { kind, reason });
  return claimed ? trigger : null;
}

/** The consortium's creation trigger, one however many creators and ticks race to write it. */
export async function createdTrigger(deps: CoordinatorDeps): Promise<TriggerRecord> {
  const root = consortiumDeps(deps);
  const raised = await raiseOnce(root, "created", "the consortium was created", "consortium");
  if (raised !== null) return raised;
  const kept = await readJson(root.store, keys.triggerTag("created", "consortium"), TriggerRecord).catch(() => null);
  if (kept === null) throw new Error("the consortium's creation trigger does not read");
  return kept;
}

/** How far before the previous run's start a trigger may still be untaken: clocks of writers a moment apart. */
const SKEW_MS = 3_600_000;

/**
 * The triggers no run has taken. Every run takes all triggers pending when it starts, so a trigger
 * older than the run before the newest (less SKEW_MS, for a trigger written while a run started by a
 * clock a moment behind) was taken; newer ones are pending unless a run since then lists them. A
 * trigger object that does not parse is logged and passed over.
 */
export async function pendingTriggers(deps: CoordinatorDeps, newest: RunRecord | null): Promise<TriggerRecord[]> {
  const root = consortiumDeps(deps);
  const taken = new Set<string>();
  let bound = Number.NEGATIVE_INFINITY;
  if (newest !== null) {
    newest.triggers.forEach((t) => taken.add(t.key));
    const previous = newest.seq > 1 ? await readJson(root.store, keys.run(newest.seq - 1), RunRecord).catch(() => null) : null;
    bound = (previous?.startedAt ?? newest.startedAt) - SKEW_MS;
    // Runs started since the bound: what they took is not pending.
    for (let seq = newest.seq - 1; seq >= 1; seq--) {
      const run = await readJson(root.store, keys.run(seq), RunRecord).catch(() => null);
      if (run === null) continue;
      run.triggers.forEach((t) => taken.add(t.key));
      if (run.startedAt < bound) break;
    }
  }
  const listed = (await root.store.list(keys.triggersPrefix)).filter((k) => !taken.has(k) && triggerTime(k) >= bound);
  const out: TriggerRecord[] = [];
  for (const key of listed) {
    const t = await readTrigger(root, key);
    if (t !== null) out.push(t);
  }
  return out;
}

/** The time a trigger's key is named by (its first 15 digits after the prefix). */
function triggerTime(key: string): number {
  return Number(key.slice(keys.triggersPrefix.length, keys.triggersPrefix.length + 15));
}

async function readTrigger(deps: CoordinatorDeps, key: string): Promise<TriggerRecord | null> {
  try {
    const t = await readJson(deps.store, key, TriggerRecord);
    if (t !== null && t.key === key) return t;
  } catch {
    // Reported below.
  }
  deps.logger.warn("a trigger does not parse; passed over", { key });
  return null;
}
