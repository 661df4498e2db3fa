import type { Report, RunReport, Stat } from "../schemas/report.ts";

/** Mean and sample standard deviation of the values present. */
export function stat(values: readonly (number | null | undefined)[]): Stat {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, sd: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

type Header = Pick<Report, "backend" | "dataset" | "model" | "strategy" | "codec" | "roundsPlanned">;

/**
 * Folds per-seed runs into the report: every figure becomes `{mean, sd}` over the seeds. Each
 * seed's 95 % intervals stay in `runs` as that seed measured them: an sd over seeds is the spread
 * of training, not an interval over test rows, and averaging intervals would be neither.
 */
export function summariseRuns(header: Header, runs: readonly RunReport[]): Report {
  if (runs.length === 0) throw new Error("no runs to summarise");
  const first = runs[0] as RunReport;
  const over = (f: (r: RunReport) => number | null | undefined) => stat(runs.map(f));
  const pooled = (k: keyof RunReport["pooled"]) => ({
    accuracy: over((r) => r.pooled[k].accuracy),
    auroc: over((r) => r.pooled[k].auroc),
    sensitivity: over((r) => r.pooled[k].sensitivity),
    specificity: over((r) => r.pooled[k].specificity),
  });
  const accuracies = (f: (r: RunReport) => RunReport["meanSiteAccuracy"] | undefined) => ({
    global: over((r) => f(r)?.global),
    personalized: over((r) => f(r)?.personalized),
    local: over((r) => f(r)?.local),
    centralized: over((r) => f(r)?.centralized),
  });
  return {
    consilium: 1,
    ...header,
    seeds: runs.map((r) => r.seed),
    sites: first.sites.map((s, i) => ({ id: s.id, name: s.name, trainRows: s.trainRows, testRows: s.testRows, accuracy: accuracies((r) => r.sites[i]?.accuracy) })),
    meanSiteAccuracy: accuracies((r) => r.meanSiteAccuracy),
    federatedToCentralized: over((r) => (r.meanSiteAccuracy.global !== null && r.meanSiteAccuracy.centralized ? r.meanSiteAccuracy.global / r.meanSiteAccuracy.centralized : null)),
    pooled: { global: pooled("global"), personalized: pooled("personalized"), local: pooled("local"), centralized: pooled("centralized") },
    rounds: first.rounds.map((round, i) => ({
      round: round.round,
      auroc: over((r) => r.rounds[i]?.auroc),
      loss: over((r) => r.rounds[i]?.loss),
      bytesUp: over((r) => r.rounds[i]?.bytesUp),
      bytesDown: over((r) => r.rounds[i]?.bytesDown),
    })),
    bytes: { up: over((r) => r.bytes.up), down: over((r) => r.bytes.down) },
    wallSeconds: over((r) => r.wallSeconds),
    rejections: over((r) => r.rejections),
    ...(runs.some((r) => r.operatingPoint) && {
      operatingPoint: {
        threshold: over((r) => r.operatingPoint?.threshold),
        sensitivity: over((r) => r.operatingPoint?.pooled.sensitivity),
        specificity: over((r) => r.operatingPoint?.pooled.specificity),
        ppv: over((r) => r.operatingPoint?.pooled.ppv),
        npv: over((r) => r.operatingPoint?.pooled.npv),
      },
    }),
    runs: [...runs],
  };
}
