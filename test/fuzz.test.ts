/**
 * Property-based requests to every route (`test/support/fuzz-requests.ts`), against federations in
 * their statistics phase and in training: bodies derived from the routes' zod schemas or from a
 * valid body of the phase, then pushed to extremes and mutated (wrong types, reserved keys,
 * numbers JSON cannot hold, nesting deeper than any stack), invalid JSON, wrong, absent and
 * malformed credentials, odd path parameters. Asserted: never a 5xx, every refusal a known code,
 * and after every batch the federation still answers its status and tasks and a round of honest
 * sites still completes. Seeded: `FUZZ_SEED=<n>` replays a run, and a failure prints its seed.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { FederationConfig, FederationState } from "../core/schemas/federation.ts";
import { countPredictions } from "../core/metrics/count-predictions.ts";
import { QualityReport } from "../core/quality/quality-report.ts";
import { Abandoned } from "../core/schemas/consortium.ts";
import { FederationStatus } from "../core/schemas/status.ts";
import { Task } from "../core/schemas/task.ts";
import { keys } from "../functions/keys.ts";
import { readJson } from "../functions/repo.ts";
import { ADMIN_TOKEN, delta, ErrorBody, federationConfig, Harness, type TestSite } from "./support/coordinator.ts";
import { requestPlan, send, type FuzzTarget, type Outcome } from "./support/fuzz-requests.ts";
import { runSecureRound, startSecureTraining } from "./support/secure-site.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 16_162_024);
/** Requests in one batch, all against one federation; its checks follow each batch. */
const BATCH = 200;

/** Every code a refusal may carry; a new one must be added here on purpose. */
const KNOWN_CODES = new Set([
  // Credentials and the request itself.
  "UNAUTHENTICATED", "BAD_CREDENTIAL", "FORBIDDEN", "NOT_FOUND", "INVALID_JSON", "INVALID_BODY", "INVALID_PARAM", "BODY_TOO_LARGE",
  // The administrator's routes.
  "FEDERATION_EXISTS", "INVALID_CONFIG", "SITE_ID_TAKEN", "BAD_VALIDATION_SET",
  // Phases, rounds and what a site already sent.
  "WRONG_PHASE", "ROUND_CLOSED", "ROUND_MISMATCH", "DEADLINE_PASSED", "ROUND_DECLINED", "STALE_UPDATE", "STALE_MODEL", "SITE_EXCLUDED", "NO_MODEL", "NO_PRIVACY_POLICY",
  "DUPLICATE_STATS", "DUPLICATE_UPDATE", "DUPLICATE_EVALUATION", "DUPLICATE_MESSAGE", "BAD_STATS",
  // An update's bytes and manifest.
  "SIZE_MISMATCH", "SAMPLES_MISMATCH", "CODEC_MISMATCH", "CHECKSUM_MISMATCH", "LENGTH_MISMATCH", "NON_FINITE", "PARAM_MISMATCH", "SEED_MISMATCH", "TRUNCATED",
  "UPDATE_OUT_OF_RANGE", "MISSING_UPDATE", "INVALID_PARTS",
  // Secure aggregation.
  "NOT_SECURE", "SECURE_AGGREGATION", "IDENTITY_MISMATCH", "NOT_A_PARTICIPANT", "PHASE_NOT_OPEN", "PHASE_CLOSED", "SECAGG_BAD_MESSAGE", "SECAGG_BAD_SIGNATURE",
  "SECAGG_DECRYPT_FAILED", "SECAGG_BAD_SHARE", "SECAGG_TOO_FEW_SHARES", "SECAGG_DOUBLE_REVEAL",
]);

/** Federations the batches run against: plain, under a privacy policy, with contribution scoring, asynchronous, excluding flagged sites; in training, secure too. */
const VARIANTS = [
  federationConfig({ rounds: 20 }),
  federationConfig({ rounds: 20, privacy: { level: "client", epsilon: 5 } }),
  federationConfig({ rounds: 20, scoring: { enabled: true } }),
  federationConfig({ rounds: 20, async: { bufferSize: 2, maxStaleness: 2 } }),
  federationConfig({ rounds: 20, quality: { policy: "exclude" } }),
];
const SECURE = federationConfig({ rounds: 20, secureAggregation: {} });

type Phase = "stats" | "training" | "evaluating";

async function target(phase: Phase, variant: number): Promise<FuzzTarget> {
  const h = new Harness();
  if (phase === "training" && variant === VARIANTS.length) {
    const secure = await startSecureTraining(h, SECURE);
    return { h, sites: secure.map((s) => s.site), features: FederationConfig.parse(SECURE).features, secure };
  }
  const config = phase === "evaluating" ? { ...VARIANTS[variant % VARIANTS.length]!, rounds: 1 } : VARIANTS[variant % VARIANTS.length]!;
  const sites = phase === "stats" ? await h.enrolSites(config) : await h.startTraining(config);
  if (phase === "evaluating") await h.finishRound(sites, 1);
  return { h, sites, features: FederationConfig.parse(config).features };
}

/** Why the answer breaks the contract, or null: no 5xx, JSON throughout, and a refusal is `{ error: { code, message } }` with a known code. */
function broken(o: Outcome): string | null {
  if (o.status >= 500) return `answered ${o.status}`;
  if (o.body === undefined) return "answered something that is not JSON";
  if (o.status < 400) return null;
  const refusal = ErrorBody.safeParse(o.body);
  if (!refusal.success) return "refused without an error body";
  return KNOWN_CODES.has(refusal.data.error.code) ? null : `refused with unknown code ${refusal.data.error.code}`;
}

function describeOutcome(o: Outcome, why: string): string {
  return `${why}: ${o.method} ${o.path.slice(0, 120)} (auth ${JSON.stringify(o.plan.auth).slice(0, 60)}, body ${o.plan.body.kind}) → ${o.status} ${o.text.slice(0, 400)}`;
}

/** The federation answers its status and every site's task, and a round of honest sites completes. */
async function assertReadableAndTrainable(t: FuzzTarget): Promise<void> {
  const { h, sites } = t;
  // What the scheduled function does every minute: a round past its deadline closes or is skipped.
  await h.admin("POST", "/v1/admin/rounds/close-expired");
  await runJobs(t);
  const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
  const parsed = FederationStatus.safeParse(status.body);
  if (status.status !== 200 || !parsed.success) throw new Error(`status unreadable: ${status.status} ${parsed.error?.message.slice(0, 600) ?? JSON.stringify(status.body).slice(0, 400)}`);
  for (const site of sites) Task.parse(await h.task(site));
  let state = await readJson(h.deps.store, keys.state, FederationState);
  if (state?.phase === "stats") {
    for (const site of sites) {
      if ((await h.deps.store.head(keys.stats(site.siteId))) !== null) continue;
      const res = await h.postStats(site);
      const code = (res.body as { error?: { code?: string } } | null)?.error?.code;
      if (res.status !== 202 && code !== "DUPLICATE_STATS") throw new Error(`honest statistics refused: ${res.status} ${JSON.stringify(res.body)}`);
    }
    state = await readJson(h.deps.store, keys.state, FederationState);
  }
  if (state?.phase === "evaluating" || state?.phase === "done") return assertEvaluates(t);
  if (t.secure && state?.phase === "training") return assertSecureRoundCloses(t, state.round);
  if (state?.phase !== "training") throw new Error(`federation not training after honest statistics: ${JSON.stringify(state)}`);
  let round = state.round;
  if ((await Promise.all(sites.map((s) => declined(h, round, s)))).every(Boolean)) {
    // Every site declined the round (privacy budgets): by design it waits for its deadline, which skips it.
    h.deps.clock.ms = ((await h.round(round))?.deadline ?? h.deps.clock.ms) + 1;
    await h.admin("POST", "/v1/admin/rounds/close-expired");
    round = (await readJson(h.deps.store, keys.state, FederationState))?.round ?? round;
  }
  for (const [i, site] of sites.entries()) {
    if (await taken(h, round, site)) continue;
    await h.submit(site, round, delta(i + 1), site.table.rows.length);
  }
  await runJobs(t);
  const after = await readJson(h.deps.store, keys.state, FederationState);
  if (!after || (after.phase === "training" && after.round === round)) {
    const stored = (await h.deps.store.list(`rounds/${String(round).padStart(6, "0")}/`)).join(", ");
    throw new Error(`round ${round} did not complete with honest sites: ${JSON.stringify(after)} ${JSON.stringify(await h.round(round))}; stored: ${stored}`);
  }
}

/**
 * Secure rounds with the honest sites, from `round` on: each leaves its round (closed or skipped
 * with a reason, never stuck), and one of the next three closes with an aggregate. The fuzz may
 * have spent a site's round state, so the round it left half done may be skipped.
 */
async function assertSecureRoundCloses(t: FuzzTarget, round: number): Promise<void> {
  const outcomes: string[] = [];
  for (let r = round; r < round + 3; r++) {
    const record = await runSecureRound(t.h, t.secure!, r);
    if (record.status === "closed") return;
    outcomes.push(`${r} ${record.status}: ${record.reason}`);
  }
  throw new Error(`no secure round closed with honest sites: ${outcomes.join("; ")}`);
}

/** Every site that has not yet reported on the final model does, and the federation is done with pooled metrics. */
async function assertEvaluates(t: FuzzTarget): Promise<void> {
  const { h, sites } = t;
  for (const site of sites) {
    const task = await h.task(site);
    if (task.kind !== "evaluate") continue;
    const counts = countPredictions(new Float64Array([0.2, 0.8, 0.6]), new Uint8Array([0, 1, 0]));
    const res = await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: task.model.version, trainRows: 3, testRows: 3, global: counts, personalized: counts, local: counts } });
    if (res.status !== 202) throw new Error(`honest evaluation refused: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const status = await h.status();
  // The sites' own declines (their credentials, a privacy policy) may end the run in its first round: abandoned, with
  // nothing to evaluate, only when round 1 stopped on declines and every site not excluded by the quality checks declined it.
  const abandoned = await readJson(h.deps.store, keys.abandoned, Abandoned);
  if (status.state.phase === "done" && status.final === null && abandoned && /^nothing trained: every site taking part declined round 1\b(?!\d)/.test(abandoned.reason)) {
    const first = await h.round(1);
    const excluded = (await readJson(h.deps.store, keys.quality, QualityReport))?.excluded ?? [];
    const declined = await Promise.all(sites.map(async (s) => excluded.includes(s.siteId) || (await h.deps.store.head(keys.decline(1, s.siteId))) !== null));
    if (first?.status === "skipped" && first.stop === "declined" && declined.every(Boolean)) return;
  }
  if (status.state.phase !== "done" || status.final === null) throw new Error(`federation not done after every evaluation: ${JSON.stringify(status.state)}`);
}

/** Runs the queued aggregation jobs as the queue's consumer would; a job that throws is a stuck round. */
async function runJobs(t: FuzzTarget): Promise<void> {
  try {
    await t.h.runJobs();
  } catch (err) {
    throw new Error(`an aggregation job failed: ${err instanceof Error ? err.stack : String(err)}`);
  }
}

const declined = async (h: Harness, round: number, site: TestSite) => (await h.deps.store.head(keys.decline(round, site.siteId))) !== null;

/** The site has already sent its update to the round or declined it, or the data-quality checks left it out. */
async function taken(h: Harness, round: number, site: TestSite): Promise<boolean> {
  const excluded = (await readJson(h.deps.store, keys.quality, QualityReport))?.excluded ?? [];
  return excluded.includes(site.siteId) || (await h.deps.store.head(keys.updateManifest(round, site.siteId))) !== null || (await declined(h, round, site));
}

const seen = new Map<string, number>();
let sent = 0;

async function fuzz(phase: Phase, runs: number): Promise<void> {
  const variants = phase === "training" ? VARIANTS.length + 1 : VARIANTS.length;
  const property = fc.asyncProperty(fc.array(requestPlan, { minLength: BATCH, maxLength: BATCH }), fc.nat(variants - 1), async (plans, variant) => {
    const t = await target(phase, variant);
    for (const plan of plans) {
      const outcome = await send(t, plan);
      sent++;
      const key = `${outcome.status} ${ErrorBody.safeParse(outcome.body).data?.error.code ?? ""}`.trim();
      seen.set(key, (seen.get(key) ?? 0) + 1);
      const why = broken(outcome);
      if (why) throw new Error(describeOutcome(outcome, why));
      if (t.h.deps.queue.messages.length > 0) await runJobs(t);
    }
    await assertReadableAndTrainable(t);
  });
  const details = await fc.check(property, { seed: SEED, numRuns: runs, endOnFailure: true });
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`fuzz (${phase}) failed with seed ${details.seed}, path ${details.counterexamplePath} (replay: FUZZ_SEED=${details.seed}): ${error}`);
  }
}

describe("hostile requests to every route", () => {
  it("in the statistics phase: never a 5xx, known codes only, and the federation goes on to train", async () => {
    await fuzz("stats", 22);
  }, 300_000);

  it("in training: never a 5xx, known codes only, and a round of honest sites still completes", async () => {
    await fuzz("training", 24);
  }, 300_000);

  it("once training is over: never a 5xx, known codes only, and the honest sites' evaluations finish the federation", async () => {
    await fuzz("evaluating", 8);
  }, 300_000);

  it("sends at least 10,000 requests in all, and many reach the handlers past authentication and parsing", () => {
    expect(sent).toBeGreaterThanOrEqual(10_000);
    const count = (pattern: RegExp) => [...seen].filter(([key]) => pattern.test(key)).reduce((n, [, k]) => n + k, 0);
    // Taken, and refused by the use cases themselves (not by authentication or body parsing).
    expect(count(/^2\d\d/)).toBeGreaterThan(100);
    expect(count(/^4\d\d (DUPLICATE_\w+|WRONG_PHASE|ROUND_CLOSED|BAD_STATS|SIZE_MISMATCH|CODEC_MISMATCH|SAMPLES_MISMATCH|STALE_MODEL|PHASE_\w+|NOT_SECURE|SECURE_AGGREGATION)$/)).toBeGreaterThan(100);
  });

  afterAll(() => console.info(`${sent} requests; answers seen: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`));
});
