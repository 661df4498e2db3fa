import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { privacySpent } from "../../core/privacy/index.ts";
import { PrivacyPolicy } from "../../core/schemas/privacy.ts";
import { loadLedger, planRound, recordRound, saveLedger, spentOf, type PrivacyLedger } from "./privacy-ledger.ts";

const policy = PrivacyPolicy.parse({ level: "sample", epsilon: 3, delta: 1e-5 });
const round = { federation: "fed-a", rounds: 10, q: 0.05, steps: 40 };

/** Plans and records `n` rounds from `ledger`, as a site does; returns the ledger and the refusals. */
function run(ledger: PrivacyLedger | null, n: number, cap?: number, from = 1) {
  const refused: number[] = [];
  for (let r = from; r < from + n; r++) {
    const plan = planRound(ledger, policy, { ...round, ...(cap !== undefined && { cap }) });
    if (plan.refuse) {
      refused.push(r);
      ledger = plan.ledger;
      continue;
    }
    ledger = recordRound(plan, r, plan.steps);
  }
  return { ledger: ledger!, refused };
}

describe("the privacy ledger", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("calibrates the noise so that the planned rounds spend the policy's budget, and refuses a round beyond them", () => {
    const { ledger, refused } = run(null, 11);
    expect(refused).toEqual([11]);
    expect(ledger.entries).toHaveLength(10);
    const spent = spentOf(ledger);
    expect(spent.epsilon).toBeLessThanOrEqual(3 * (1 + 1e-6));
    expect(spent.epsilon).toBeGreaterThan(2.99);
    // The figure is the accountant's over what the ledger holds.
    expect(spent.epsilon).toBe(privacySpent(ledger.entries, { delta: 1e-5 }).epsilon);
    expect(spent).toMatchObject({ level: "sample", delta: 1e-5, budget: 3 });
  });

  it("holds a site to its own lower cap: it refuses the rounds that would take it past the cap", () => {
    const { ledger, refused } = run(null, 10, 1.5);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toEqual(Array.from({ length: refused.length }, (_, i) => 10 - refused.length + 1 + i));
    expect(spentOf(ledger).epsilon).toBeLessThanOrEqual(1.5 * (1 + 1e-6));
    expect(spentOf(ledger).budget).toBe(1.5);
  });

  it("keeps its noise for the same run, and carries an earlier run's rounds into the next run's ledger (the same patients)", () => {
    const first = run(null, 3).ledger;
    expect(planRound(first, policy, round).ledger.noiseMultiplier).toBe(first.noiseMultiplier);
    const other = planRound(first, policy, { ...round, federation: "fed-b", q: 0.5 });
    expect(other.ledger.entries.map((e) => [e.round, e.federation])).toEqual([[1, "fed-a"], [2, "fed-a"], [3, "fed-a"]]);
    expect(other.ledger.noiseMultiplier).not.toBe(first.noiseMultiplier);
  });

  it("holds every run to its budget and all runs together to the lifetime budget; without one, a later run declines", () => {
    // Run A spends its whole budget (ε 3 over 10 rounds).
    const a = run(null, 10).ledger;
    const spentA = spentOf(a).epsilon;
    expect(spentA).toBeGreaterThan(2.9);
    // No lifetime budget: run B may not spend anything more on the same patients.
    const strict = planRound(a, policy, { ...round, federation: "fed-b" });
    expect(strict.refuse).toBe(true);
    expect(strict.lifetime).toBeGreaterThan(spentA);
    // A lifetime budget of 4 (two runs of ε 3 compose to less than 6 under RDP): run B trains until all runs together reach it, then declines.
    const lifetimePolicy = PrivacyPolicy.parse({ ...policy, lifetimeEpsilon: 4 });
    let ledger: PrivacyLedger = a;
    const refused: number[] = [];
    for (let r = 1; r <= 10; r++) {
      const plan = planRound(ledger, lifetimePolicy, { ...round, federation: "fed-b" });
      if (plan.refuse) {
        refused.push(r);
        ledger = plan.ledger;
        continue;
      }
      ledger = recordRound(plan, r, plan.steps);
    }
    const spent = spentOf(ledger);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(10);
    expect(spent.epsilon).toBeLessThanOrEqual(3 * (1 + 1e-6));
    expect(spent.lifetime?.budget).toBe(4);
    expect(spent.lifetime!.epsilon).toBeLessThanOrEqual(4 * (1 + 1e-6));
    expect(spent.lifetime!.epsilon).toBeGreaterThan(spent.epsilon);
    // The accountant over every entry is the lifetime figure: nothing was forgotten between runs.
    expect(spent.lifetime!.epsilon).toBeCloseTo(privacySpent(ledger.entries, { delta: ledger.delta }).epsilon, 10);
  });

  it("survives a restart of the runner, and refuses to train from a ledger it cannot read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "consilium-ledger-"));
    dirs.push(dir);
    expect(await loadLedger(dir)).toBeNull();
    const before = run(null, 4).ledger;
    await saveLedger(dir, before);
    const restarted = await loadLedger(dir);
    expect(restarted).toEqual(before);
    // The restarted site goes on from what it spent: rounds 5 to 10 fit, the eleventh does not.
    expect(run(restarted, 7, undefined, 5).refused).toEqual([11]);
    await writeFile(join(dir, "privacy-ledger.json"), "{ not json");
    await expect(loadLedger(dir)).rejects.toMatchObject({ code: "CORRUPT_LEDGER" });
  });

  it("counts a round trained twice twice: the first noisy update may already have left", () => {
    const plan = planRound(null, policy, round);
    const twice = recordRound({ ...plan, ledger: recordRound(plan, 1, 40) }, 1, 40);
    const entry = { round: 1, federation: "fed-a", q: 0.05, sigma: plan.ledger.noiseMultiplier, steps: 40 };
    expect(twice.entries).toEqual([entry, entry]);
    expect(spentOf(twice).epsilon).toBeGreaterThan(spentOf(recordRound(plan, 1, 40)).epsilon);
  });
});
