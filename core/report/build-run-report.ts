import { clinicalMetrics, mergeCounts } from "../metrics/index.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { mergeMulticlass, type MulticlassCounts, type MulticlassSummary, multiclassSummary } from "../metrics/multiclass.ts";
import { isBinaryEvaluation } from "../schemas/task.ts";
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
  /** A K-class model: the classes' names, and the centralized baseline's K-class counts on each site's test rows. */
  readonly classes?: { readonly names: readonly string[]; readonly centralized: ReadonlyMap<string, MulticlassCounts> };
}

/** A K-class model's figures in the places a binary model's accuracy and AUROC go. */
const accuracyOf = (m: MulticlassSummary | undefined) => ({ accuracy: m?.accuracy ?? null, interval: m?.accuracyInterval ?? null });
const pooledOfClasses = (m: MulticlassSummary | null | undefined): Pooled =>
  m ? { ...empty, accuracy: m.accuracy, auroc: m.macroAuroc, intervals: { accuracy: m.accuracyInterval, auroc: null, sensitivity: null, specificity: null } } : empty;

/**
 * One run's report from the coordinator's status (counts only) and the centralized baseline. The
 * AUROC after round r is that of model r, measured by the sites at the start of round r+1, or in
 * the final evaluation for the last round. Each site accuracy and pooled figure of the final
 * models carries its 95 % interval over the test rows (`clinicalMetrics`).
 */
export function buildRunReport({ seed, wallSeconds, status, centralized, malicious = [], classes }: RunInputs): RunReport {
  const evals = status.evaluations.filter(isBinaryEvaluation);
  const kClass = status.evaluations.filter((e) => e.classes !== undefined);
  const sites = status.sites.map((s) => {
    const e = evals.find((x) => x.siteId === s.id);
    const c = centralized.get(s.id);
    const [g, p, l, k] = [e?.global, e?.personalized, e?.local, c].map((x) => (x ? clinicalMetrics(x) : undefined));
    const ke = kClass.find((x) => x.siteId === s.id)?.classes;
    if (ke) {
      const kc = classes?.centralized.get(s.id);
      const [mg, mp, ml, mk] = [ke.global, ke.personalized, ke.local, kc].map((x) => accuracyOf(x ? multiclassSummary(x) : undefined));
      const ev = kClass.find((x) => x.siteId === s.id)!;
      return {
        id: s.id,
        name: s.name,
        trainRows: ev.trainRows,
        testRows: ev.testRows,
        accuracy: { global: mg!.accuracy, personalized: mp!.accuracy, local: ml!.accuracy, centralized: mk!.accuracy },
        accuracyIntervals: { global: mg!.interval, personalized: mp!.interval, local: ml!.interval, centralized: mk!.interval },
        ...(ev.personalChoice && { personalChoice: { kind: ev.personalChoice.kind, reason: ev.personalChoice.reason } }),
      };
    }
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
  const finalClasses = status.finalClasses;
  const cClasses = [...(classes?.centralized.values() ?? [])];
  const centralClasses = cClasses.length > 0 ? multiclassSummary(mergeMulticlass(cClasses)) : null;
  // A skipped round leaves the next one training from the same version: take the earliest
  // round that measured a version, whatever order the log lists rounds in.
  const { pooled: measured, sites: measuredAt } = measuredVersions(status.roundLog);
  // The final evaluation measures the last model: a binary model's AUROC, a K-class model's macro AUROC.
  const finalAt = evals.length > 0
    ? Object.fromEntries(evals.map((e) => [e.siteId, clinicalMetrics(e.global).auroc]))
    : kClass.length > 0 ? Object.fromEntries(kClass.map((e) => [e.siteId, multiclassSummary(e.classes!.global).macroAuroc])) : null;
  const finalAuroc = evals.length > 0 ? clinicalMetrics(mergeCounts(evals.map((e) => e.global))).auroc : (status.finalClasses?.global.macroAuroc ?? null);
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
    pooled: finalClasses
      ? { global: pooledOfClasses(finalClasses.global), personalized: pooledOfClasses(finalClasses.personalized), local: pooledOfClasses(finalClasses.local), centralized: pooledOfClasses(centralClasses) }
      : {
          global: evals.length ? pool((e) => e.global) : empty,
          personalized: evals.length ? pool((e) => e.personalized) : empty,
          local: evals.length ? pool((e) => e.local) : empty,
          centralized: cCounts.length ? pooledOf(clinicalMetrics(mergeCounts(cCounts))) : empty,
        },
    rounds,
    bytes: { up: rounds.reduce((n, r) => n + r.bytesUp, 0), down: rounds.reduce((n, r) => n + r.bytesDown, 0) },
    rejections: status.rejectionsTotal ?? status.rejections.length,
    ...(status.final?.operatingPoint && { operatingPoint: status.final.operatingPoint }),
    ...(finalClasses && { classes: { names: [...(classes?.names ?? finalClasses.names)], global: finalClasses.global, personalized: finalClasses.personalized, local: finalClasses.local, centralized: centralClasses } }),
    ...(evals.length > 0 && { curves: {
      global: histogramsOf(mergeCounts(evals.map((e) => e.global))),
      personalized: histogramsOf(mergeCounts(evals.map((e) => e.personalized))),
      local: histogramsOf(mergeCounts(evals.map((e) => e.local))),
      ...(cCounts.length > 0 && { centralized: histogramsOf(mergeCounts(cCounts)) }),
    } }),
  };
}

const histogramsOf = (c: EvalCounts) => ({ pos: [...c.pos], neg: [...c.neg] });
