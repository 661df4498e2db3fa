/**
 * @module
 * A site's privacy ledger: every private round it trained (sampling rate, noise multiplier and the
 * noisy steps that actually ran), the rounds it refused, and the budget it holds them to. It is
 * kept in the site's state folder, written before the update that spends it leaves the site, and
 * read back after a restart, so that a runner never forgets what it has spent. A ledger that
 * cannot be read stops training instead of starting from zero.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { calibrateNoise, privacySpent, type SampledGaussian } from "../../core/privacy/index.ts";
import type { PrivacyPolicy, PrivacySpent } from "../../core/schemas/privacy.ts";
import { writeStateFile } from "../session/state-files.ts";

export const LedgerEntry = z.object({
  round: z.number().int().positive(),
  /** The run (federation) the round belonged to; absent in ledgers from before runs (the ledger's own). */
  federation: z.string().optional(),
  q: z.number().min(0).max(1),
  sigma: z.number().positive(),
  steps: z.number().int().nonnegative(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export const PrivacyLedger = z.object({
  /**
   * The run (federation) the ledger is now counting. A later run of the consortium keeps the
   * entries of the earlier ones (the same patients): each run is held to its budget, and all of
   * them together to the lifetime budget.
   */
  federation: z.string().nullable(),
  /** The ε all runs together may spend (the policy's `lifetimeEpsilon`, else its `epsilon`). */
  lifetimeBudget: z.number().positive().optional(),
  level: z.enum(["sample", "client"]),
  delta: z.number().positive().max(0.1),
  /** The ε this site holds itself to: the policy's, or its own lower cap. */
  budget: z.number().positive(),
  /** Fixed at the first private round, for the policy's budget over the planned rounds. */
  noiseMultiplier: z.number().positive(),
  entries: z.array(LedgerEntry),
  refused: z.array(z.number().int().positive()),
});
export type PrivacyLedger = z.infer<typeof PrivacyLedger>;

const FILE = "privacy-ledger.json";

export async function saveLedger(dir: string, ledger: PrivacyLedger): Promise<void> {
  await writeStateFile(dir, FILE, JSON.stringify(ledger, null, 2));
}

/** The saved ledger, `null` when there is none; `CORRUPT_LEDGER` when one exists but cannot be read. */
export async function loadLedger(dir: string): Promise<PrivacyLedger | null> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ConsiliumError("CORRUPT_LEDGER", `privacy ledger ${join(dir, FILE)} cannot be read: ${(err as Error).message}`, 500);
  }
  try {
    return PrivacyLedger.parse(JSON.parse(text));
  } catch (err) {
    throw new ConsiliumError("CORRUPT_LEDGER", `privacy ledger ${join(dir, FILE)} is not a ledger (${(err as Error).message}); the site will not train privately from a forgotten budget`, 500);
  }
}

/** What a round would cost: its accountant entry (without the round's step count, known once trained). */
export interface RoundPlan {
  readonly ledger: PrivacyLedger;
  readonly q: number;
  readonly steps: number;
  /** This run's ε at δ once this round has run all its steps… */
  readonly after: number;
  /** …and all runs' together. */
  readonly lifetime: number;
  /** Training this round would take the site past its budget. */
  readonly refuse: boolean;
}

/**
 * Plans a private round. Sample-level: rate `q = batch / rows`, `steps` noisy steps a round;
 * client-level: `q = 1` (every site, every round) and one step. The noise multiplier is fixed at
 * the first private round: the smallest that keeps the policy's (ε, δ) over all planned rounds
 * (`calibrateNoise`), the same at every site of equal size. A site whose own cap is below the
 * policy's refuses the first round that would exceed it.
 */
export function planRound(
  saved: PrivacyLedger | null,
  policy: PrivacyPolicy,
  round: { federation: string | null; rounds: number; q: number; steps: number; cap?: number },
): RoundPlan {
  const budget = Math.min(policy.epsilon, round.cap ?? Number.POSITIVE_INFINITY);
  const lifetimeBudget = Math.min(policy.lifetimeEpsilon ?? policy.epsilon, round.cap ?? Number.POSITIVE_INFINITY);
  const same = saved !== null && saved.level === policy.level && saved.delta === policy.delta;
  const fresh = (entries: LedgerEntry[]): PrivacyLedger => ({
    federation: round.federation,
    level: policy.level,
    delta: policy.delta,
    budget,
    lifetimeBudget,
    noiseMultiplier: calibrateNoise({ q: round.q, steps: round.steps * round.rounds, epsilon: policy.epsilon, delta: policy.delta }),
    entries,
    refused: [],
  });
  // A later run of the same consortium: the entries stay (the same patients), tagged with the run they spent in.
  const carried = (l: PrivacyLedger) => l.entries.map((e) => ({ ...e, federation: e.federation ?? l.federation ?? undefined }));
  const ledger: PrivacyLedger = !same ? fresh([]) : saved.federation === round.federation ? { ...saved, budget, lifetimeBudget } : fresh(carried(saved));
  const next: SampledGaussian = { q: round.q, sigma: ledger.noiseMultiplier, steps: round.steps };
  const run = ledger.entries.filter((e) => (e.federation ?? ledger.federation) === ledger.federation);
  const after = privacySpent([...run, next], { delta: ledger.delta }).epsilon;
  const lifetime = privacySpent([...ledger.entries, next], { delta: ledger.delta }).epsilon;
  // Calibration meets the policy's ε to a relative tolerance of 1e-6 in σ; allow that much.
  return { ledger, q: round.q, steps: round.steps, after, lifetime, refuse: after > budget * (1 + 1e-6) || lifetime > lifetimeBudget * (1 + 1e-6) };
}

/**
 * The ledger after a round that ran `steps` noisy steps. A round trained again (a retry after a
 * failed upload) counts again: its first noisy update may have left the site already.
 */
export function recordRound(plan: RoundPlan, round: number, steps: number): PrivacyLedger {
  const entry: LedgerEntry = { round, ...(plan.ledger.federation !== null && { federation: plan.ledger.federation }), q: plan.q, sigma: plan.ledger.noiseMultiplier, steps };
  return { ...plan.ledger, entries: [...plan.ledger.entries, entry] };
}

/** The ledger in brief, as updates and refusals report it: this run's ε, and all runs' when the ledger spans several. */
export function spentOf(ledger: PrivacyLedger): PrivacySpent {
  const spend = (entries: readonly LedgerEntry[]) => (entries.length === 0 ? 0 : privacySpent(entries, { delta: ledger.delta }).epsilon);
  const run = ledger.entries.filter((e) => (e.federation ?? ledger.federation) === ledger.federation);
  const spanned = run.length !== ledger.entries.length;
  return {
    level: ledger.level,
    epsilon: spend(run),
    delta: ledger.delta,
    budget: ledger.budget,
    noiseMultiplier: ledger.noiseMultiplier,
    ...(spanned && { lifetime: { epsilon: spend(ledger.entries), budget: ledger.lifetimeBudget ?? ledger.budget } }),
  };
}
