/**
 * @module
 * What `consilium site` prints once the federation is done: its evaluation of the global, the
 * personalized and the local-only model on its own test rows, each figure with its 95 % interval.
 */
import { clinicalMetrics } from "../core/metrics/clinical-metrics.ts";
import type { Interval } from "../core/metrics/interval.ts";
import { type MulticlassCounts, multiclassSummary } from "../core/metrics/multiclass.ts";
import { isBinaryEvaluation, type SiteEvaluation } from "../core/schemas/task.ts";
import { spanText } from "./print-report.ts";

const figure = (value: number | null, span: Interval | null) => (value === null ? "—" : span ? `${value.toFixed(3)} (${spanText(span)})` : value.toFixed(3));

function metricsLine(name: string, counts: NonNullable<SiteEvaluation["global"]>): string {
  const m = clinicalMetrics(counts);
  const i = m.intervals;
  return `  ${name.padEnd(13)} accuracy ${figure(m.accuracy, i.accuracy)}  AUROC ${figure(m.auroc, i.auroc)}  sensitivity ${figure(m.sensitivity, i.sensitivity)}  specificity ${figure(m.specificity, i.specificity)}`;
}

/**
 * The lines of a site's closing evaluation, header first.
 *
 * @example
 * for (const line of evaluationLines(evaluation)) io.out(line);
 * // evaluation of model v2 on 104 test rows (trained on 199):
 * //   global        accuracy 0.837 (0.75–0.90)  AUROC 0.912 (0.85–0.95)  …
 */
export function evaluationLines(ev: SiteEvaluation): string[] {
  if (ev.classes) {
    const line = (name: string, counts: MulticlassCounts) => {
      const m = multiclassSummary(counts);
      return `  ${name.padEnd(13)} accuracy ${figure(m.accuracy, m.accuracyInterval)}  macro AUROC ${figure(m.macroAuroc, null)}`;
    };
    return [
      `evaluation of model v${ev.modelVersion} (${ev.classes.global.k} classes) on ${ev.testRows} test rows (trained on ${ev.trainRows}):`,
      line("global", ev.classes.global),
      line("personalized", ev.classes.personalized),
      line("local only", ev.classes.local),
      `  (lo–hi): 95 % interval over these ${ev.testRows} test rows (Wilson)`,
    ];
  }
  if (!isBinaryEvaluation(ev)) return [`evaluation of model v${ev.modelVersion}: no counts`];
  return [
    `evaluation of model v${ev.modelVersion} on ${ev.testRows} test rows (trained on ${ev.trainRows}):`,
    metricsLine("global", ev.global),
    metricsLine("personalized", ev.personalized),
    metricsLine("local only", ev.local),
    `  (lo–hi): 95 % interval over these ${ev.testRows} test rows (Wilson; DeLong on the logit scale for AUROC)`,
  ];
}
