import { clinicalMetrics, mergeCounts } from "../metrics/index.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import type { RunReport } from "../schemas/report.ts";
import type { FederationStatus } from "../schemas/status.ts";
import { measuredVersions } from "./measured-versions.ts";

type Pooled = RunReport["pooled"]["global"];
const pooledOf = (m: ReturnType<typeof clinicalMetrics>): Pooled => ({ accuracy: m.accuracy, auroc: m.auroc, sensitivity: m.sensitivity, specificity: m.specificity, intervals: m.intervals });
const empty: Pooled = {
  accuracy: null, auroc: null, sensitivity: null, specificity: null,
  intervals: { accuracy: null, auroc: null, sensitivity: null, specificity: null },
};
const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

export interface RunInputs {
  readonly seed: number;
  readonly wallSeconds: number;
  readonly status: FederationStatus;
  /** The centralized baseline's counts on each site's test rows, by site id. */
  readonly centralized: ReadonlyMap<string, EvalCounts>;
  /** Site ids the attack lab made malicious. */
  readonly malicious?: readonly string[];
}

/**
 * One run's report from the coordinator's status (counts only) and the centralized baseline. The
 * AUROC after round r is that of model r, measured by the sites at the start of round r+1, or in
 * the final evaluation for the last round. Each site accuracy and pooled figure of the final
 * models carries its 95 % interval over the test rows (`clinicalMetrics`).
 */
export function buildRunReport({ seed, wallSeconds, status, centralized, malicious = [] }: RunInputs): RunReport {
  const evals = status.evaluations;
  const sites = status.sites.map((s) => {
    const e = evals.find((x) => x.siteId === s.id);
    const c = centralized.get(s.id);
    const [g, p, l, k] = [e?.global, e?.personalized, e?.local, c].map((x) => (x ? clinicalMetrics(x) : undefined));
    return {
      id: s.id,
      name: s.name,
      trainRows: e?.trainRows ?? 0,
      testRows: e?.testRows ?? 0,
      accuracy: { global: g?.accuracy ?? null, personalized: p?.accuracy ?? null, local: l?.accuracy ?? null, centralized: k?.accuracy ?? null },
      accuracyIntervals: {
        global: g?.intervals.accuracy ?? null,
        personalized: p?.intervals.accuracy ?? null,
        local: l?.intervals.accuracy ?? null,
        centralized: k?.intervals.accuracy ?? null,
      },
      ...(e?.personalChoice && { personalChoice: { kind: e.personalChoice.kind, reason: e.personalChoice.reason } }),
    };
  });
  const pool = (pick: (e: (typeof evals)[number]) => EvalCounts) => pooledOf(clinicalMetrics(mergeCounts(evals.map(pick))));
  const cCounts = [...centralized.values()];
  // A skipped round leaves the next one training from the same version: take the earliest
  // round that measured a version, whatever order the log lists rounds in.
  const { pooled: measured, sites: measuredAt } = measuredVersions(status.roundLog);
  const finalAt = evals.length > 0 ? Object.fromEntries(evals.map((e) => [e.siteId, clinicalMetrics(e.global).auroc])) : null;
  const finalAuroc = evals.length > 0 ? clinicalMetrics(mergeCounts(evals.map((e) => e.global))).auroc : null;
  const opened = status.roundLog.find((r) => r.round === 1)?.openedAt;
  const rounds = status.roundLog.map((r) => {
    const produced = r.resultVersion;
    const next = produced === undefined ? undefined : measured.get(produced);
    const auroc = produced === undefined ? null : next ? next.auroc : produced === status.state.modelVersion ? finalAuroc : null;
    const atSites = produced === undefined ? undefined : measuredAt.get(produced);
    const siteAuroc = produced === undefined ? undefined : ((atSites && Object.fromEntries(atSites)) ?? (produced === status.state.modelVersion && !measured.has(produced) ? finalAt : null) ?? undefined);
    const scores = r.scores && Object.fromEntries(r.scores.map((x) => [x.siteId, { distance: x.distance, agreement: x.agreement, alignment: x.alignment, norm: x.norm, ...(x.gain !== undefined && { gain: x.gain }), action: x.action }]));
    const closedAt = r.closedAt === undefined || opened === undefined ? undefined : (r.closedAt - opened) / 1000;
    return { round: r.round, status: r.status, sites: r.updates, auroc, ...(r.trainLoss !== undefined && { loss: r.trainLoss }), ...(siteAuroc && { siteAuroc }), bytesUp: r.bytesUp, bytesDown: r.bytesDown, ...(closedAt !== undefined && { closedAt }), ...(r.stale !== undefined && { stale: r.stale }), ...(r.secure && { secure: r.secure }), ...(r.reason !== undefined && { reason: r.reason }), ...(scores && { scores }) };
  });
  const scored = status.roundLog.flatMap((r) => r.scores ?? []);
  const firstQuarantined: Record<string, number> = {};
  for (const r of [...status.roundLog].sort((a, b) => a.round - b.round)) {
    for (const x of r.scores ?? []) if (x.action === "quarantine") firstQuarantined[x.siteId] ??= r.round;
  }
  const quarantined = Object.keys(firstQuarantined).sort();
  return {
    seed,
    malicious: [...malicious],
    ...(scored.length > 0 && { quarantined, firstQuarantined }),
    ...(status.quality && { quality: status.quality }),
    ...(status.features && { features: status.features }),
    ...(status.privacy && { privacy: status.privacy }),
    aggregation: status.secureAggregation ? "secure" : "plain",
    wallSeconds,
    sites,
    meanSiteAccuracy: {
      global: mean(sites.map((s) => s.accuracy.global)),
      personalized: mean(sites.map((s) => s.accuracy.personalized)),
      local: mean(sites.map((s) => s.accuracy.local)),
      centralized: mean(sites.map((s) => s.accuracy.centralized)),
    },
    pooled: {
      global: evals.length ? pool((e) => e.global) : empty,
      personalized: evals.length ? pool((e) => e.personalized) : empty,
      local: evals.length ? pool((e) => e.local) : empty,
      centralized: cCounts.length ? pooledOf(clinicalMetrics(mergeCounts(cCounts))) : empty,
    },
    rounds,
    bytes: { up: rounds.reduce((n, r) => n + r.bytesUp, 0), down: rounds.reduce((n, r) => n + r.bytesDown, 0) },
    rejections: status.rejectionsTotal ?? status.rejections.length,
    ...(status.final?.operatingPoint && { operatingPoint: status.final.operatingPoint }),
    ...(evals.length > 0 && { curves: {
      global: histogramsOf(mergeCounts(evals.map((e) => e.global))),
      personalized: histogramsOf(mergeCounts(evals.map((e) => e.personalized))),
      local: histogramsOf(mergeCounts(evals.map((e) => e.local))),
      ...(cCounts.length > 0 && { centralized: histogramsOf(mergeCounts(cCounts)) }),
    } }),
  };
}

const histogramsOf = (c: EvalCounts) => ({ pos: [...c.pos], neg: [...c.neg] });
