/**
 * @module
 * What the registry keeps in the store and answers over HTTP: the champion's history entries, the
 * decision recorded for each version, and the operator's views and requests. Wire formats, hence
 * here, shared by the coordinator and its clients.
 */
import { z } from "zod";
import { GateDecision } from "./gate-decision.ts";
import { ModelCard } from "./model-card.ts";

/** One move of the champion pointer, write-once; the latest entry is the champion. */
export const ChampionEntry = z.object({
  seq: z.int().min(1),
  version: z.int().min(1),
  /** promote: by the gate or an operator; rollback: back to a version that was champion before. */
  action: z.enum(["promote", "rollback"]),
  /** Who moved it: the gate, or the operator (admin token). */
  by: z.enum(["gate", "operator"]),
  reason: z.string().min(1).max(2000),
  at: z.number(),
  previous: z.int().min(1).nullable(),
});
export type ChampionEntry = z.infer<typeof ChampionEntry>;

/** What the registry decided about a version when it was registered. */
export const RegistryDecision = z.object({
  version: z.int().min(1),
  at: z.number(),
  /** Whether the gate judged it (a later version needs both models' counts from the same rows). */
  judged: z.boolean(),
  promoted: z.boolean(),
  reason: z.string(),
  gate: GateDecision.optional(),
});
export type RegistryDecision = z.infer<typeof RegistryDecision>;

/** One version in the list. */
export const VersionSummary = z.object({
  version: z.int().min(1),
  run: z.string(),
  parent: z.int().min(1).nullable(),
  createdAt: z.number(),
  strategy: z.string(),
  auroc: z.number().nullable(),
  sites: z.int().nonnegative(),
  champion: z.boolean(),
  decision: RegistryDecision.nullable(),
});
export type VersionSummary = z.infer<typeof VersionSummary>;

export const ModelsView = z.object({ champion: ChampionEntry.nullable(), history: z.array(ChampionEntry), versions: z.array(VersionSummary) });
export type ModelsView = z.infer<typeof ModelsView>;

export const ModelView = z.object({ card: ModelCard, decision: RegistryDecision.nullable(), champion: z.boolean(), formerChampion: z.boolean() });
export type ModelView = z.infer<typeof ModelView>;

/** What an operator sends to move the champion: why, and (to guard against a concurrent move) the champion they saw. */
export const ChampionRequest = z.object({
  reason: z.string().trim().min(1, "give the reason, for the audit trail").max(2000),
  expectedChampion: z.int().min(1).nullable().optional(),
});
export type ChampionRequest = z.infer<typeof ChampionRequest>;

export const RollbackRequest = ChampionRequest.extend({ to: z.int().min(1) });
export type RollbackRequest = z.infer<typeof RollbackRequest>;
