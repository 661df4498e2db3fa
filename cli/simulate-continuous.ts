/**
 * @module
 * A consortium that keeps training, replayed month by month on a virtual clock through the
 * production paths: the coordinator over HTTP on the embedded S3/SQS, site runners, check-ins,
 * triggers, the registry and its gate, and the sites' pulls. Each month the sites check in with
 * the last month's labelled rows (labels arrive a month late), the coordinator's tick starts a
 * run when a trigger is pending (the sites train it on their trailing window), the sites pull
 * the champion, and the champion is measured on the month's new patients beside a reference
 * model trained centrally on the same trailing window. A run's held-out rows at each site are
 * every third patient of its last labelled month (the gate compares models on them); the rest of
 * the window is trained on. The months come from synthetic tables (`monthly-cohort.ts`) or from
 * the hospitals' monthly FHIR exports (`gpu-runner/data/monthly-fhir.ts`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminClient } from "../client/admin-client.ts";
import { retryingFetch } from "../client/api.ts";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { aurocFromHistogram, countPredictions, mergeCounts } from "../core/metrics/index.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { applyPreprocessing } from "../core/preprocess/transform.ts";
import type { Table } from "../core/preprocess/table.ts";
import type { RunsView, RunView } from "../core/schemas/consortium.ts";
import type { EnrolResponse, FederationConfig, TrainingConfig } from "../core/schemas/federation.ts";
import type { EvalCounts } from "../core/metrics/eval-counts.ts";
import { privacySpent } from "../core/privacy/index.ts";
import type { PrivacyPolicy } from "../core/schemas/privacy.ts";
import { silentLogger, type Logger } from "../core/logger.ts";
import type { Clock } from "../functions/ports.ts";
import { binaryCounts, scoreRows } from "../gpu-runner/model/score-rows.ts";
import { checkInStep } from "../gpu-runner/session/check-in-step.ts";
import { loadInstalled } from "../gpu-runner/session/installed-model.ts";
import { createSession } from "../gpu-runner/session/site-session.ts";
import { runSite } from "../gpu-runner/session/site-runner.ts";
import { loadLedger, type LedgerEntry } from "../gpu-runner/privacy/privacy-ledger.ts";
import { parseAttack } from "../gpu-runner/simulation/attack.ts";
import { monthsData, type MonthlyData } from "../gpu-runner/data/monthly-fhir.ts";
import { syntheticMonths, type PlantedDrift } from "../gpu-runner/simulation/monthly-cohort.ts";
import { trainCentralized } from "../gpu-runner/training/centralized.ts";
import { pullChampion } from "../gpu-runner/training/install-champion.ts";
import { siteIdOf, startDeployment } from "./simulate.ts";
import { SIMULATION_RETRY } from "./simulation-retry.ts";

const DAY = 86_400_000;
const MONTH = 30 * DAY;

export interface ContinuousPlan {
  readonly sites: number;
  readonly months: number;
  /** Patients admitted per month over all sites. */
  readonly patientsPerMonth: number;
  readonly drifts: readonly PlantedDrift[];
  /** Labelled months a run trains on (its most recent is each site's held-out rows). */
  readonly windowMonths: number;
  /** A run on schedule this many months after the last started. */
  readonly scheduleMonths: number;
  readonly model: string;
  readonly training: TrainingConfig;
  readonly rounds: number;
  readonly strategy: string;
  readonly codec: string;
  /** An operator's run at this month in which one site sends `scale:-10` updates (plain FedAvg takes them)… */
  readonly attackMonth?: number;
  /** …this site (0-based; default 0, the smallest). */
  readonly attackSite?: number;
  /** DP-SGD at every site: `epsilon` per run, `lifetimeEpsilon` over all runs (each site's ledger spans them). */
  readonly privacy?: PrivacyPolicy;
  readonly seed: number;
}

/** What one site's ledger says it spent: per run, and over all runs, against its lifetime budget. */
export interface SitePrivacySpent {
  readonly siteId: string;
  readonly runs: readonly { readonly run: string; readonly epsilon: number; readonly rounds: number }[];
  readonly total: number;
  readonly lifetimeBudget: number;
}

export interface TimelineMonth {
  readonly month: number;
  /** The champion in use by the sites during the month, and its pooled AUROC on the month's new patients. */
  readonly champion: number | null;
  readonly championAuroc: number | null;
  /** A model trained centrally on the same trailing window, on the same patients. */
  readonly referenceAuroc: number | null;
  /** Both on the patients of the sites whose data no drift exclusion holds out this month (the unit error's rows are wrong for any model). */
  readonly championAurocKept: number | null;
  readonly referenceAurocKept: number | null;
  readonly patients: number;
  readonly flags: readonly { readonly siteId: string; readonly check: string; readonly feature?: string; readonly reason: string }[];
  readonly excluded: readonly string[];
  readonly runsStarted: readonly { readonly seq: number; readonly triggers: readonly { readonly kind: string; readonly reason: string }[]; readonly abandoned: string | null }[];
  readonly decisions: readonly { readonly version: number; readonly run: string; readonly promoted: boolean; readonly judged: boolean; readonly reason: string }[];
  /** Each site's installed version at the month's end, and whether its personal head is on it. */
  readonly installed: readonly { readonly siteId: string; readonly version: number | null; readonly kind: "personal" | "global" | null }[];
  /** Under a privacy policy: each site's ε over all runs at the month's end, from its own ledger. */
  readonly epsilon: readonly { readonly siteId: string; readonly total: number }[] | null;
}

export interface ContinuousReport {
  readonly plan: Omit<ContinuousPlan, "drifts"> & { readonly drifts: readonly PlantedDrift[] };
  readonly timeline: TimelineMonth[];
  readonly versions: { readonly version: number; readonly run: string; readonly parent: number | null; readonly auroc: number | null; readonly champion: boolean; readonly sites: readonly string[] }[];
  readonly runs: RunsView["runs"];
  readonly wallSeconds: number;
  /** Wall time of each month, in seconds (month 0 is the first run on the history). */
  readonly monthSeconds: number[];
  /** Under a privacy policy: what each site spent, per run and in total, read from its ledger. */
  readonly privacy: readonly SitePrivacySpent[] | null;
}

/** A site's ledger, summed per run (the RDP accountant composes each run's rounds, and all of them for the total). */
export async function sitePrivacySpent(siteId: string, dir: string): Promise<SitePrivacySpent | null> {
  const ledger = await loadLedger(dir);
  if (ledger === null) return null;
  const runOf = (e: LedgerEntry) => e.federation ?? ledger.federation ?? "";
  const spend = (entries: readonly LedgerEntry[]) => (entries.length === 0 ? 0 : privacySpent(entries, { delta: ledger.delta }).epsilon);
  const runs = [...new Set(ledger.entries.map(runOf))].map((run) => {
    const entries = ledger.entries.filter((e) => runOf(e) === run);
    return { run, epsilon: spend(entries), rounds: entries.length };
  });
  return { siteId, runs, total: spend(ledger.entries), lifetimeBudget: ledger.lifetimeBudget ?? ledger.budget };
}

/** A clock the simulation moves a month at a time; within a month it runs as real time does. */
class VirtualClock implements Clock {
  #base = Date.UTC(2027, 0, 1);
  #offset = 0;
  #startedAt = Date.now();
  now(): number {
    return this.#base + this.#offset + (Date.now() - this.#startedAt);
  }
  month(m: number): void {
    this.#offset = m * MONTH - (Date.now() - this.#startedAt);
  }
}

const auroc = (c: EvalCounts | null) => (c === null ? null : aurocFromHistogram(c.pos, c.neg));

/** Runs the whole timeline: month 0 trains the first run on the history, then months 1..M. */
export async function simulateContinuous(plan: ContinuousPlan, options: { readonly logger?: Logger; readonly data?: MonthlyData } = {}): Promise<ContinuousReport> {
  const logger = options.logger ?? silentLogger;
  const data = options.data ?? syntheticMonths({ sites: plan.sites, patientsPerMonth: plan.patientsPerMonth, drifts: plan.drifts, seed: plan.seed });
  if (data.sites.length !== plan.sites) throw new Error(`the data holds ${data.sites.length} sites, the plan ${plan.sites}`);
  if (data.first > 1 - plan.windowMonths || data.last < plan.months) {
    throw new Error(`the replay needs months ${1 - plan.windowMonths}..${plan.months} (a window of ${plan.windowMonths} before month 1, then ${plan.months} months); the data holds months ${data.first}..${data.last}`);
  }
  const started = performance.now();
  const clock = new VirtualClock();
  const deployment = await startDeployment({}, { logger }, clock);
  const stateRoot = await mkdtemp(join(tmpdir(), "consilium-continuous-"));
  const model = parseModelSpec(plan.model);
  const config: FederationConfig = {
    id: "continuous",
    features: data.spec,
    model,
    training: plan.training,
    rounds: plan.rounds,
    expectedSites: plan.sites,
    roundDeadlineSeconds: 600,
    strategy: plan.strategy,
    codec: plan.codec,
    seed: plan.seed,
    // Due half a day before the month's anniversary: a month's tick runs a few seconds into the month, not always later than the last run started in its month.
    continuous: { schedule: { everyHours: plan.scheduleMonths * 30 * 24 - 12 } },
    ...(plan.privacy && { privacy: plan.privacy }),
  };
  const timeline: TimelineMonth[] = [];
  const monthSeconds: number[] = [];
  try {
    // The reference model trains in this thread between calls: the admin's connections may find the server's end closed, and are retried.
    const admin = new AdminClient(deployment.url, deployment.deps.adminToken, retryingFetch(fetch, undefined, { policy: SIMULATION_RETRY }));
    const enrolled: EnrolResponse[] = [];
    // The first run trains on the history: the window's months before month 1.
    clock.month(0);
    await admin.createFederation(config);
    for (let i = 0; i < plan.sites; i++) enrolled.push(await admin.enrol(`Hospital ${i + 1}`, siteIdOf(i)));
    /** A site's labelled window ending at month `last`: its held-out rows are the last month's every third patient, the rest is trained on. */
    const siteWindow = (i: number, last: number) => {
      const recent = data.month(i, last).table;
      const window = monthsData(data, i, last - plan.windowMonths + 1, last);
      const earlier = monthsData(data, i, last - plan.windowMonths + 1, last - 1).table;
      const held = recent.rows.filter((_, k) => k % 3 === 0);
      return {
        train: { columns: recent.columns, rows: [...earlier.rows, ...recent.rows.filter((_, k) => k % 3 !== 0)] },
        test: { columns: recent.columns, rows: held },
        ...(window.outOfRange && { outOfRange: window.outOfRange }),
      };
    };
    const client = (e: EnrolResponse) => new CoordinatorClient(deployment.url, e.token, fetch, { policy: SIMULATION_RETRY });
    const stateDir = (e: EnrolResponse) => join(stateRoot, e.siteId);
    /** The sites train the active run on their window of labelled months ending at `last`, until it is done. */
    const trainRun = async (last: number, attacker: number | null) => {
      await Promise.all(
        enrolled.map((e, i) => {
          const data = siteWindow(i, last);
          return runSite({ siteId: e.siteId, client: client(e), data, stateDir: stateDir(e), logger, ...(attacker === i && { attack: parseAttack("scale:-10") }) });
        }),
      );
    };
    const pullAll = async (last: number) => {
      for (const [i, e] of enrolled.entries()) {
        const data = siteWindow(i, last);
        await pullChampion(createSession(e.siteId, client(e), data, stateDir(e), undefined, logger), stateDir(e)).catch((err: unknown) => logger.warn("pull failed", { siteId: e.siteId, error: (err as Error).message }));
      }
    };
    let t = performance.now();
    await trainRun(0, null);
    await admin.tick();
    await pullAll(0);
    monthSeconds.push((performance.now() - t) / 1000);
    let knownRuns = (await admin.runs()).runs.length;
    let knownVersions = (await admin.models()).versions.length;
    for (let month = 1; month <= plan.months; month++) {
      t = performance.now();
      clock.month(month);
      const last = month - 1;
      // Check-ins: last month's labelled rows, with the installed champion's counts on them.
      const flags: TimelineMonth["flags"][number][] = [];
      const excluded: string[] = [];
      for (const [i, e] of enrolled.entries()) {
        const { table: rows, outOfRange } = data.month(i, last);
        const monthData = { train: rows, test: rows, ...(outOfRange && { outOfRange }) };
        const answer = await checkInStep(createSession(e.siteId, client(e), monthData, stateDir(e), undefined, logger), monthData, data.spec, `month-${last}`, stateDir(e));
        flags.push(...answer.flags.filter((f) => f.severity === "act").map((f) => ({ siteId: f.siteId, check: f.check, ...(f.feature !== undefined && { feature: f.feature }), reason: f.reason })));
        if (answer.excluded) excluded.push(e.siteId);
      }
      const attacked = plan.attackMonth === month;
      if (attacked) await admin.startRun(`an operator's run (site ${(plan.attackSite ?? 0) + 1} attacks it in the simulation)`);
      // The tick starts a run when a trigger is pending; the sites train it to its end, the gate judges it; again while runs start.
      let after: RunsView;
      for (;;) {
        await admin.tick();
        after = await admin.runs();
        if (after.runs.at(-1)?.phase === "done") break;
        await trainRun(last, attacked ? (plan.attackSite ?? 0) : null);
      }
      const fresh: RunView[] = after.runs.slice(knownRuns);
      knownRuns = after.runs.length;
      const models = await admin.models();
      const decisions = [];
      for (const v of models.versions.slice(knownVersions)) {
        const shown = await admin.model(v.version);
        decisions.push({ version: v.version, run: v.run, promoted: shown.decision?.promoted ?? false, judged: shown.decision?.judged ?? false, reason: shown.decision?.reason ?? "no decision" });
      }
      knownVersions = models.versions.length;
      await pullAll(last);
      // The month's new patients: the installed champion (global model) and the central reference, on the same rows.
      const news = enrolled.map((_, i) => data.month(i, month).table);
      const championCounts: EvalCounts[] = [];
      const championKept: EvalCounts[] = [];
      const installed: TimelineMonth["installed"][number][] = [];
      let championVersion: number | null = null;
      for (const [i, e] of enrolled.entries()) {
        const m = await loadInstalled(stateDir(e)).catch(() => null);
        installed.push({ siteId: e.siteId, version: m?.meta.modelVersion ?? null, kind: m?.meta.installed?.kind ?? null });
        if (m === null) continue;
        championVersion = m.meta.modelVersion;
        const data = applyPreprocessing(news[i]!, m.meta.preprocessing);
        const counts = countPredictions(scoreRows(m.meta.layout, m.body, null, data), data.y);
        championCounts.push(counts);
        if (!excluded.includes(e.siteId)) championKept.push(counts);
      }
      const reference = trainCentralized({
        sites: enrolled.map((e, i) => ({ name: e.siteId, train: monthsData(data, i, last - plan.windowMonths + 1, last).table, test: news[i]! })),
        features: data.spec,
        model,
        training: plan.training,
        rounds: plan.rounds,
        seed: plan.seed + month,
      });
      const spent = plan.privacy ? await Promise.all(enrolled.map((e) => sitePrivacySpent(e.siteId, stateDir(e)))) : null;
      timeline.push({
        month,
        champion: championVersion,
        championAuroc: auroc(championCounts.length ? mergeCounts(championCounts) : null),
        // Continuous learning refuses K-class labels: these counts are a binary model's.
        referenceAuroc: auroc(mergeCounts(reference.map(binaryCounts))),
        championAurocKept: auroc(championKept.length ? mergeCounts(championKept) : null),
        referenceAurocKept: auroc(mergeCounts(reference.filter((_, i) => !excluded.includes(enrolled[i]!.siteId)).map(binaryCounts))),
        patients: news.reduce((n, t2: Table) => n + t2.rows.length, 0),
        flags,
        excluded,
        runsStarted: fresh.map((r) => ({ seq: r.seq, triggers: r.triggers.map((x) => ({ kind: x.kind, reason: x.reason })), abandoned: r.abandoned?.reason ?? null })),
        decisions,
        installed,
        epsilon: spent === null ? null : enrolled.map((e, i) => ({ siteId: e.siteId, total: spent[i]?.total ?? 0 })),
      });
      monthSeconds.push((performance.now() - t) / 1000);
      logger.info("month done", { month, champion: championVersion, runs: fresh.length });
    }
    const models = await admin.models();
    const runs = await admin.runs();
    const versions = [];
    for (const v of models.versions) versions.push({ version: v.version, run: v.run, parent: v.parent, auroc: v.auroc, champion: v.champion, sites: (await admin.model(v.version)).card.sites.map((x) => x.siteId) });
    const privacy = plan.privacy ? (await Promise.all(enrolled.map((e) => sitePrivacySpent(e.siteId, stateDir(e))))).filter((p): p is SitePrivacySpent => p !== null) : null;
    return {
      privacy,
      plan: { ...plan },
      timeline,
      versions,
      runs: runs.runs,
      wallSeconds: (performance.now() - started) / 1000,
      monthSeconds,
    };
  } finally {
    await deployment.stop();
    await rm(stateRoot, { recursive: true, force: true });
  }
}
