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
  q: z.number().min(0).max(1),
  sigma: z.number().positive(),
  steps: z.number().int().nonnegative(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export const PrivacyLedger = z.object({
  /** The federation the ledger belongs to; a ledger of another federation is not this one's. */
  federation: z.string().nullable(),
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
  /** The ledger's ε at δ once this round has run all its steps. */
  readonly after: number;
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
  const fits = saved && saved.federation === round.federation && saved.level === policy.level && saved.delta === policy.delta;
  const ledger: PrivacyLedger = fits
    ? { ...saved, budget }
    : {
        federation: round.federation,
        level: policy.level,
        delta: policy.delta,
        budget,
        noiseMultiplier: calibrateNoise({ q: round.q, steps: round.steps * round.rounds, epsilon: policy.epsilon, delta: policy.delta }),
        entries: [],
        refused: [],
      };
  const entries: SampledGaussian[] = [...ledger.entries, { q: round.q, sigma: ledger.noiseMultiplier, steps: round.steps }];
  const after = privacySpent(entries, { delta: ledger.delta }).epsilon;
  // Calibration meets the policy's ε to a relative tolerance of 1e-6 in σ; allow that much.
  return { ledger, q: round.q, steps: round.steps, after, refuse: after > budget * (1 + 1e-6) };
}

/**
 * The ledger after a round that ran `steps` noisy steps. A round trained again (a retry after a
 * failed upload) counts again: its first noisy update may have left the site already.
 */
export function recordRound(plan: RoundPlan, round: number, steps: number): PrivacyLedger {
  const entry: LedgerEntry = { round, q: plan.q, sigma: plan.ledger.noiseMultiplier, steps };
  return { ...plan.ledger, entries: [...plan.ledger.entries, entry] };
}

/** The ledger in brief, as updates and refusals report it. */
export function spentOf(ledger: PrivacyLedger): PrivacySpent {
  const epsilon = ledger.entries.length === 0 ? 0 : privacySpent(ledger.entries, { delta: ledger.delta }).epsilon;
  return { level: ledger.level, epsilon, delta: ledger.delta, budget: ledger.budget, noiseMultiplier: ledger.noiseMultiplier };
}
