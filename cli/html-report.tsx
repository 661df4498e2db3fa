/**
 * @module
 * A simulation's report as one self-contained HTML file (`consilium simulate --html FILE`): the
 * dashboard's styles, uPlot and the dashboard's chart script inline, the data as JSON blocks, and a
 * Content-Security-Policy that allows those inline scripts and styles by their hashes and nothing
 * else: it opens from a file, offline, and asks the network for nothing. Charts: the learning curves
 * (pooled AUROC and the sites' training loss by round, each seed; each site's AUROC by round), each
 * site's global, personalised, local-only and centralized accuracy, the final models' pooled ROC
 * curves and the global model's calibration (from the sites' score histograms), privacy spent per
 * site against its budget, bytes by round; tables: the spread over seeds, privacy spent, quality
 * flags.
 */
import { describeRule, type RatesAt } from "../core/metrics/operating-point.ts";
import { createHash } from "node:crypto";
import type { Child, FC } from "hono/jsx";
import { CALIBRATION_GROUPS, calibrationGroups } from "../core/metrics/calibration.ts";
import { rocCurve } from "../core/metrics/roc.ts";
import type { Report, Stat } from "../core/schemas/report.ts";
import { ASSETS } from "../functions/dashboard/assets.generated.ts";
import { Chart, ClassTable, PALETTE, siteSeries, type ChartSpec } from "../functions/dashboard/views.tsx";

const MODELS = ["global", "personalized", "local", "centralized"] as const;
const LABEL: Record<(typeof MODELS)[number], string> = { global: "global", personalized: "personalised", local: "local only", centralized: "centralized" };

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const stat = (s: Stat, digits = 3) => (s.mean === null ? "—" : s.sd === null || s.sd === 0 ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`);

/** The charts' specs for a report: every one the file draws. */
export function reportCharts(report: Report): { id: string; label: string; spec: ChartSpec }[] {
  const runs = report.runs;
  const first = runs[0]!;
  const rounds = report.rounds.map((r) => r.round);
  const charts: { id: string; label: string; spec: ChartSpec }[] = [
    {
      id: "learning", label: "Pooled AUROC of the global model after each round",
      spec: {
        title: "Learning curve: pooled AUROC after each round", xLabel: "round", yLabel: "AUROC", integerX: true, yRange: [0.4, 1], x: rounds,
        series: runs.map((run, k) => ({ label: runs.length > 1 ? `seed ${run.seed}` : "pooled AUROC", color: PALETTE[k % PALETTE.length]!, values: rounds.map((r) => run.rounds.find((x) => x.round === r)?.auroc ?? null) })),
      },
    },
    ...(runs.some((run) => run.rounds.some((r) => r.loss !== undefined && r.loss !== null))
      ? [{
          id: "loss", label: "The sites' training loss in each round",
          spec: {
            title: "Training loss by round (the sites' last local epoch, weighted by samples)", xLabel: "round", yLabel: "loss", integerX: true, x: rounds,
            series: runs.map((run, k) => ({ label: runs.length > 1 ? `seed ${run.seed}` : "training loss", color: PALETTE[k % PALETTE.length]!, values: rounds.map((r) => run.rounds.find((x) => x.round === r)?.loss ?? null) })),
          },
        }]
      : []),
    ...(first.rounds.some((r) => r.siteAuroc !== undefined)
      ? [{
          id: "site-learning", label: "The AUROC of the global model on each site's held-out rows after each round",
          spec: {
            title: runs.length > 1 ? `Learning curve at each site (seed ${first.seed})` : "Learning curve at each site", xLabel: "round", yLabel: "AUROC", integerX: true, yRange: [0.4, 1] as [number, number], x: rounds,
            series: siteSeries(report.sites.map((s) => ({ label: s.name, values: rounds.map((r) => first.rounds.find((x) => x.round === r)?.siteAuroc?.[s.id] ?? null) })), rounds.length),
          },
        }]
      : []),
    {
      id: "sites", label: "Each site's accuracy with the global, personalised, local-only and centralized models",
      spec: {
        title: "Accuracy on each site's held-out rows", kind: "dots", xLabel: "site", yLabel: "accuracy", yRange: [0, 1], x: report.sites.map((_, i) => i + 1), xTicks: report.sites.map((s) => s.id),
        series: MODELS.map((m, i) => ({ label: LABEL[m], color: PALETTE[i]!, values: report.sites.map((s) => s.accuracy[m].mean) })),
      },
    },
  ];
  const rocs = MODELS.flatMap((m, i) => {
    const h = first.curves?.[m];
    const curve = h ? rocCurve(h.pos, h.neg) : null;
    return curve ? [{ label: LABEL[m], color: PALETTE[i]!, curve }] : [];
  });
  if (rocs.length > 0) {
    // One x for every curve: each curve has its own points there and nothing elsewhere (null), its segments drawn straight across the others' points.
    const xs = [...new Set(rocs.flatMap((r) => r.curve.map((p) => p.fpr)))].sort((a, b) => a - b);
    const at = (curve: { fpr: number; tpr: number }[]) => {
      const best = new Map<number, number>();
      for (const p of curve) best.set(p.fpr, Math.max(best.get(p.fpr) ?? 0, p.tpr));
      return xs.map((x) => best.get(x) ?? null);
    };
    charts.push({
      id: "roc", label: "Pooled ROC curves of the final models",
      spec: { title: runs.length > 1 ? `ROC curves (seed ${first.seed})` : "ROC curves", xLabel: "false-positive rate", yLabel: "true-positive rate", yRange: [0, 1], x: xs, series: [...rocs.map((r) => ({ label: r.label, color: r.color, values: at(r.curve) })), { label: "chance", color: "#9aa3b2", values: xs }] },
    });
  }
  const g = first.curves?.global;
  if (g) {
    const groups = calibrationGroups(g.pos, g.neg, { groups: CALIBRATION_GROUPS });
    charts.push({
      id: "calibration", label: "Calibration of the final global model",
      spec: { title: runs.length > 1 ? `Calibration of the global model (seed ${first.seed})` : "Calibration of the global model", xLabel: "predicted risk", yLabel: "observed rate", yRange: [0, 1], x: groups.map((x) => x.predicted), series: [{ label: "observed", color: PALETTE[1]!, values: groups.map((x) => x.observed) }, { label: "perfect", color: "#9aa3b2", values: groups.map((x) => x.predicted) }] },
    });
  }
  const privacy = first.privacy ?? [];
  if (privacy.length > 0) {
    const names = new Map(report.sites.map((s) => [s.id, s.name]));
    charts.push({
      id: "privacy", label: "Privacy spent by each site against its budget",
      spec: {
        title: runs.length > 1 ? `Privacy spent, ε (seed ${first.seed})` : "Privacy spent, ε", kind: "dots", xLabel: "site", yLabel: "ε", x: privacy.map((_, i) => i + 1), xTicks: privacy.map((p) => names.get(p.siteId) ?? p.siteId),
        yRange: [0, Math.max(...privacy.map((p) => Math.max(p.budget, p.epsilon))) * 1.05],
        series: [{ label: "ε spent", color: PALETTE[0]!, values: privacy.map((p) => p.epsilon) }, { label: "budget", color: PALETTE[4]!, values: privacy.map((p) => p.budget) }],
      },
    });
  }
  charts.push({
    id: "bytes", label: "Bytes sent up and down by round",
    spec: { title: "Traffic by round (mean over seeds)", xLabel: "round", yLabel: "KiB", integerX: true, x: rounds, series: [{ label: "up (updates)", color: PALETTE[0]!, values: report.rounds.map((r) => (r.bytesUp.mean ?? 0) / 1024) }, { label: "down (models)", color: PALETTE[1]!, values: report.rounds.map((r) => (r.bytesDown.mean ?? 0) / 1024) }] },
  });
  return charts;
}

const Section: FC<{ title: string; children: Child }> = ({ title, children }) => (
  <section>
    <h2>{title}</h2>
    {children}
  </section>
);

/** The report's HTML document, whole. */
export function renderHtmlReport(report: Report, generatedAt: Date = new Date()): string {
  const css = `${ASSETS["uplot.css"]!.body}\n${ASSETS["app.css"]!.body}`;
  const js = [ASSETS["uplot.js"]!.body, ASSETS["app.js"]!.body];
  // Inline, a script or style may not hold its own end tag.
  if (js.some((code) => /<\/script/i.test(code)) || /<\/style/i.test(css)) throw new Error("an inline asset holds its own end tag");
  const policy = ["default-src 'none'", `script-src ${js.map(sha256).join(" ")}`, `style-src ${sha256(css)}`, "img-src data:", "base-uri 'none'", "form-action 'none'"].join("; ");
  const charts = reportCharts(report);
  const first = report.runs[0]!;
  const names = new Map(report.sites.map((s) => [s.id, s.name]));
  const flags = first.quality?.flags ?? [];
  const privacy = first.privacy ?? [];
  const op = first.operatingPoint;
  const rates = (x: RatesAt) => [x.sensitivity, x.specificity, x.ppv, x.npv].map((v) => <td class="num">{v === null ? "—" : v.toFixed(3)}</td>);
  const body = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content={policy} />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Consilium report: ${report.dataset}`}</title>
        <link rel="icon" href="data:," />
        <style dangerouslySetInnerHTML={{ __html: css }} />
      </head>
      <body>
        <header><span class="brand">Consilium</span><span class="who">{`report generated ${generatedAt.toISOString().slice(0, 19).replace("T", " ")} UTC`}</span></header>
        <main>
          <h1>{`${report.dataset}: ${report.sites.length} sites, ${report.roundsPlanned} rounds, ${report.seeds.length} seed${report.seeds.length === 1 ? "" : "s"}`}</h1>
          <p class="muted">{`Model ${report.model}, strategy ${report.strategy}, codec ${report.codec}, backend ${report.backend}; seeds ${report.seeds.join(", ")}.`}</p>
          <div class="cards">
            {MODELS.map((m) => <div class="card"><div class="label">{`Mean site accuracy, ${LABEL[m]}`}</div><div class="value">{stat(report.meanSiteAccuracy[m])}</div></div>)}
            <div class="card"><div class="label">{first.classes ? "Pooled macro AUROC, global" : "Pooled AUROC, global"}</div><div class="value">{stat(report.pooled.global.auroc)}</div></div>
            <div class="card"><div class="label">Federated / centralized</div><div class="value">{stat(report.federatedToCentralized)}</div></div>
          </div>
          {charts.map((c) => <Chart id={c.id} spec={c.spec} label={c.label} />)}
          <Section title="Sites">
            <table>
              <thead><tr><th scope="col">Site</th><th scope="col" class="num">Train rows</th><th scope="col" class="num">Test rows</th>{MODELS.map((m) => <th scope="col" class="num">{LABEL[m]}</th>)}<th scope="col">{`Personalised is${report.seeds.length > 1 ? ` (seed ${first.seed})` : ""}`}</th></tr></thead>
              <tbody>{report.sites.map((s) => {
                const choice = first.sites.find((x) => x.id === s.id)?.personalChoice;
                return <tr data-site={s.id}><th scope="row">{s.name}<div class="muted">{s.id}</div></th><td class="num">{String(s.trainRows)}</td><td class="num">{String(s.testRows)}</td>{MODELS.map((m) => <td class="num">{stat(s.accuracy[m])}</td>)}<td title={choice?.reason ?? ""}>{choice ? (choice.kind === "personal" ? "its personal model" : "the global model") : "—"}</td></tr>;
              })}</tbody>
            </table>
          </Section>
          <Section title="Spread over seeds">
            <table>
              <thead><tr><th scope="col">Pooled, final models</th><th scope="col" class="num">Accuracy</th><th scope="col" class="num">{first.classes ? "Macro AUROC" : "AUROC"}</th><th scope="col" class="num">Sensitivity</th><th scope="col" class="num">Specificity</th></tr></thead>
              <tbody>{MODELS.map((m) => <tr><th scope="row">{LABEL[m]}</th><td class="num">{stat(report.pooled[m].accuracy)}</td><td class="num">{stat(report.pooled[m].auroc)}</td><td class="num">{stat(report.pooled[m].sensitivity)}</td><td class="num">{stat(report.pooled[m].specificity)}</td></tr>)}</tbody>
            </table>
          </Section>
          {first.classes && (
            <Section title="By class">
              <p class="muted">{`The global model${report.seeds.length > 1 ? ` (seed ${first.seed})` : ""}, pooled over every site's test rows; a row's prediction is its most probable class.`}</p>
              <ClassTable names={first.classes.names} summary={first.classes.global} />
            </Section>
          )}
          <Section title="Operating point">
            {first.classes ? <p class="muted">A K-class model predicts its most probable class: it has no threshold to choose.</p> : op === undefined ? <p class="muted">No operating threshold: the sites sent no training-row counts to choose it on.</p> : (
              <>
                <p>{`The global model is used at threshold ${op.threshold.toFixed(3)}, chosen by ${describeRule(op.rule)} on the scores of ${op.chosenOn.rows} training rows pooled over ${op.chosenOn.sites} sites${report.seeds.length > 1 ? ` (seed ${first.seed}; over the seeds: ${stat(report.operatingPoint!.threshold)})` : ""}; the rates are on the held-out rows, beside the same at 0.5.`}</p>
                <table>
                  <thead><tr><th scope="col">Held-out rows</th><th scope="col" class="num">{`Sensitivity at ${op.threshold.toFixed(3)}`}</th><th scope="col" class="num">Specificity</th><th scope="col" class="num">PPV</th><th scope="col" class="num">NPV</th><th scope="col" class="num">Sensitivity at 0.5</th><th scope="col" class="num">Specificity</th><th scope="col" class="num">PPV</th><th scope="col" class="num">NPV</th></tr></thead>
                  <tbody>
                    <tr data-site="pooled"><th scope="row">Pooled</th>{rates(op.pooled)}{rates(op.pooledAtHalf)}</tr>
                    {op.sites.map((x) => <tr data-site={x.siteId}><th scope="row">{names.get(x.siteId) ?? x.siteId}</th>{rates(x.at)}{rates(x.atHalf)}</tr>)}
                  </tbody>
                </table>
              </>
            )}
          </Section>
          <Section title="Privacy spent">
            {privacy.length === 0 ? <p class="muted">No differential privacy in this run.</p> : (
              <table>
                <thead><tr><th scope="col">Site</th><th scope="col" class="num">ε spent</th><th scope="col" class="num">Budget</th><th scope="col" class="num">δ</th><th scope="col">Rounds declined</th></tr></thead>
                <tbody>{privacy.map((p) => <tr data-site={p.siteId}><th scope="row">{names.get(p.siteId) ?? p.siteId}</th><td class="num">{p.epsilon.toFixed(3)}</td><td class="num">{String(p.budget)}</td><td class="num">{String(p.delta)}</td><td>{p.refusedRounds.length === 0 ? "—" : p.refusedRounds.join(", ")}</td></tr>)}</tbody>
              </table>
            )}
          </Section>
          <Section title="Data quality">
            {flags.length === 0 ? <p class="muted">No site flagged.</p> : (
              <ul class="alerts">{flags.map((f) => <li class={first.quality?.excluded.includes(f.siteId) ? "bad" : ""} data-site={f.siteId}>{`${names.get(f.siteId) ?? f.siteId}: ${f.reason}`}</li>)}</ul>
            )}
          </Section>
        </main>
        {js.map((code) => <script dangerouslySetInnerHTML={{ __html: code }} />)}
      </body>
    </html>
  );
  return "<!doctype html>" + String(body);
}
