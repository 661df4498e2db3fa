/**
 * @module
 * The dashboard's pages, server-rendered with Hono's JSX (every value escaped): the layout with its
 * navigation, sign-in, the overview and the sites. Charts are declared here as JSON blocks that the
 * dashboard's script (`client.js`) draws with uPlot; no inline script runs.
 */
import { describeRule, type OperatingPoint, type RatesAt } from "../../core/metrics/operating-point.ts";
import type { Child, FC } from "hono/jsx";
import { AuditRecord } from "../../core/audit/trail.ts";
import { CALIBRATION_GROUPS, calibrationGroups } from "../../core/metrics/calibration.ts";
import { clinicalMetrics } from "../../core/metrics/clinical-metrics.ts";
import { mergeCounts } from "../../core/metrics/merge-counts.ts";
import { rocCurve } from "../../core/metrics/roc.ts";
import type { ModelsView } from "../../core/registry/registry-records.ts";
import { measuredVersions } from "../../core/report/measured-versions.ts";
import type { FederationStatus } from "../../core/schemas/status.ts";
import { isBinaryEvaluation } from "../../core/schemas/task.ts";
import type { MulticlassSummary } from "../../core/metrics/multiclass.ts";
import { ASSETS } from "./assets.generated.ts";

export const PAGES = [
  { path: "/dashboard", title: "Overview" },
  { path: "/dashboard/sites", title: "Sites" },
  { path: "/dashboard/rounds", title: "Rounds" },
  { path: "/dashboard/models", title: "Models" },
  { path: "/dashboard/audit", title: "Audit" },
] as const;

const asset = (name: string) => `/dashboard/assets/${name}?v=${ASSETS[name]!.hash}`;

/** A chart for `client.js`: x values, series of y values (null where there is none). */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: number[];
  readonly series: { readonly label: string; readonly color: string; readonly values: (number | null)[] }[];
  readonly yRange?: [number, number];
  /** Lines (the default) or dots at each x (one per site: a dot plot). */
  readonly kind?: "line" | "dots";
  /** x is a whole number (a version): ticks on whole numbers. */
  readonly integerX?: boolean;
  /** Names of x = 1, 2, …, for the axis. */
  readonly xTicks?: string[];
}

export const PALETTE = ["#1f5fbf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];

const quantile = (sorted: readonly number[], q: number) => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
};

/**
 * One curve per site, in the palette's colours, while there are few enough sites to tell apart;
 * beyond that, the sites' spread at each x: the median and the 10th and 90th percentiles.
 */
export function siteSeries(bySite: readonly { readonly label: string; readonly values: readonly (number | null)[] }[], length: number): ChartSpec["series"] {
  if (bySite.length <= PALETTE.length) return bySite.map((s, i) => ({ label: s.label, color: PALETTE[i]!, values: [...s.values] }));
  const at = Array.from({ length }, (_, k) => bySite.flatMap((s) => (s.values[k] === null || s.values[k] === undefined ? [] : [s.values[k]!])).sort((a, b) => a - b));
  const band = (q: number) => at.map((xs) => (xs.length === 0 ? null : quantile(xs, q)));
  return [
    { label: `90th percentile of ${bySite.length} sites`, color: PALETTE[1]!, values: band(0.9) },
    { label: "median site", color: PALETTE[0]!, values: band(0.5) },
    { label: "10th percentile", color: PALETTE[2]!, values: band(0.1) },
  ];
}

/** The sites' training loss in each round (weighted by their samples), from the status; null when no round reported one. */
export function lossChart(status: FederationStatus): ChartSpec | null {
  const log = [...status.roundLog].sort((a, b) => a.round - b.round).filter((r) => r.trainLoss !== undefined && r.trainLoss !== null);
  if (log.length === 0) return null;
  // The loss each site reports is its mean minibatch loss over its last local epoch; the sites' weighted by their samples.
  return { title: "Training loss by round", xLabel: "round", yLabel: "loss", integerX: true, x: log.map((r) => r.round), series: [{ label: "training loss", color: PALETTE[1]!, values: log.map((r) => r.trainLoss!) }] };
}

/**
 * Each site's curves from a status read with `perSite`: the AUROC of each model version on its
 * held-out rows (as the first round that started from the version measured it, then the final
 * evaluation), and its training loss by round. Null when the status holds no per-site updates.
 */
export function siteCurves(status: FederationStatus): { auroc: ChartSpec | null; loss: ChartSpec | null } | null {
  const log = [...status.roundLog].sort((a, b) => a.round - b.round);
  if (!log.some((r) => r.sites && r.sites.length > 0)) return null;
  const versions = measuredVersions(status.roundLog).sites;
  const binary = status.evaluations.filter(isBinaryEvaluation);
  if (binary.length > 0 && !versions.has(status.state.modelVersion)) {
    versions.set(status.state.modelVersion, new Map(binary.map((e) => [e.siteId, clinicalMetrics(e.global).auroc])));
  }
  const xs = [...versions.keys()].sort((a, b) => a - b);
  const lossRounds = log.filter((r) => (r.sites ?? []).some((s) => s.trainLoss !== undefined));
  const lossAt = lossRounds.map((r) => new Map(r.sites!.flatMap((s) => (s.trainLoss === undefined ? [] : [[s.siteId, s.trainLoss] as const]))));
  const auroc: ChartSpec | null = xs.length === 0 ? null : {
    title: "AUROC of the global model at each site", xLabel: "model version", yLabel: "AUROC", integerX: true, yRange: [0.4, 1], x: xs,
    series: siteSeries(status.sites.map((site) => ({ label: site.name, values: xs.map((v) => versions.get(v)!.get(site.id) ?? null) })), xs.length),
  };
  const loss: ChartSpec | null = lossRounds.length === 0 ? null : {
    title: "Training loss at each site", xLabel: "round", yLabel: "loss", integerX: true, x: lossRounds.map((r) => r.round),
    series: siteSeries(status.sites.map((site) => ({ label: site.name, values: lossAt.map((at) => at.get(site.id) ?? null) })), lossRounds.length),
  };
  return auroc || loss ? { auroc, loss } : null;
}

/**
 * With contribution scoring: the weight each site's update got in each scored round (its
 * reputation when down-weighted, 1 when kept, 0 in quarantine); null without scoring.
 */
export function contributionChart(status: FederationStatus): ChartSpec | null {
  const scored = [...status.roundLog].sort((a, b) => a.round - b.round).filter((r) => r.scores && r.scores.length > 0);
  if (scored.length === 0) return null;
  const weightAt = scored.map((r) => new Map(r.scores!.map((s) => [s.siteId, s.factor])));
  return {
    title: "Weight from contribution scoring", xLabel: "round", yLabel: "weight (0: quarantined)", integerX: true, yRange: [0, 1.05], x: scored.map((r) => r.round),
    series: siteSeries(status.sites.map((site) => ({ label: site.name, values: weightAt.map((at) => at.get(site.id) ?? null) })), scored.length),
  };
}

/** JSON to sit in a `<script type="application/json">` as is: `<`, `>` and `&` escaped, so that no value can close the element. */
export const jsonForScript = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");

/** A chart's place on the page and its data, as a JSON block (not run: `type="application/json"`). */
export const Chart: FC<{ id: string; spec: ChartSpec; label: string }> = ({ id, spec, label }) => (
  <figure class="panel" aria-label={label}>
    <div data-chart={`${id}-data`} class="chart" />
    <script type="application/json" id={`${id}-data`} dangerouslySetInnerHTML={{ __html: jsonForScript(spec) }} />
  </figure>
);

export const Layout: FC<{ title: string; path: string; operator?: { name: string; role: string }; refreshMs?: number; children: Child }> = ({ title, path, operator, refreshMs, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Consilium`}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={asset("uplot.css")} />
      <link rel="stylesheet" href={asset("app.css")} />
    </head>
    <body>
      <header>
        <span class="brand">Consilium</span>
        {operator && (
          <nav aria-label="Dashboard">
            {PAGES.map((p) => (
              <a href={p.path} aria-current={p.path === path ? "page" : undefined}>{p.title}</a>
            ))}
          </nav>
        )}
        {operator && (
          <form method="post" action="/dashboard/sign-out">
            <span class="who">{`${operator.name} (${operator.role})`} </span>
            <button type="submit">Sign out</button>
          </form>
        )}
      </header>
      <main data-refresh={refreshMs ? String(refreshMs) : undefined}>{children}</main>
      <script src={asset("uplot.js")} />
      <script src={asset("app.js")} />
    </body>
  </html>
);

export const SignIn: FC<{ error?: string }> = ({ error }) => (
  <div class="signin panel">
    <h1>Sign in</h1>
    <p class="muted">With your operator credential (a viewer's is enough) or the consortium's admin token.</p>
    <form method="post" action="/dashboard/sign-in">
      <label for="token">Credential</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">Sign in</button>
    </form>
  </div>
);

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(digits)}%`);
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? "—" : x.toFixed(digits));
const when = (ms: number | undefined) => (ms === undefined ? "—" : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC");

/** How long past its deadline a round may stay open before it is an alert: the cron ticks each minute. */
export const STUCK_GRACE_MS = 2 * 60_000;
const minutes = (ms: number) => (ms < 90 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

/** What an operator should look at now (`now`, the coordinator's clock): quality flags, quarantines, refused input, stuck rounds, what blocks the run. */
export function alertsOf(status: FederationStatus, now: number): { level: "warn" | "bad"; text: string }[] {
  const name = new Map(status.sites.map((s) => [s.id, s.name]));
  const out: { level: "warn" | "bad"; text: string }[] = [];
  if (status.blocked) out.push({ level: "bad", text: `Blocked: ${status.blocked.code}: ${status.blocked.message}` });
  for (const f of status.quality?.flags ?? []) out.push({ level: status.quality?.excluded.includes(f.siteId) ? "bad" : "warn", text: `Quality flag at ${name.get(f.siteId) ?? f.siteId}: ${f.reason}` });
  for (const s of status.sites) if (s.quarantined) out.push({ level: "bad", text: `${s.name} is quarantined until round ${s.quarantinedUntil}` });
  const refused = status.rejectionsTotal ?? status.rejections.length;
  // The status lists refusals oldest first.
  const newest = status.rejections.at(-1);
  if (refused > 0) out.push({ level: "warn", text: `${refused} refused input${refused === 1 ? "" : "s"}; newest: ${newest?.code ?? ""} ${newest?.message ?? ""}`.trim() });
  const skipped = status.roundLog.filter((r) => r.status === "skipped").length;
  if (skipped > 0) out.push({ level: "warn", text: `${skipped} round${skipped === 1 ? "" : "s"} skipped` });
  // Stuck: the round training now open well past its deadline (the cron's tick, each minute, closes it; a secure round's
  // phases may run on past it), or an aggregation the cron had to queue again.
  const current = status.state.phase === "training" ? status.roundLog.find((r) => r.round === status.state.round) : undefined;
  const grace = STUCK_GRACE_MS + (status.secureAggregation ? 4 * status.secureAggregation.phaseSeconds * 1000 : 0);
  if (current?.status === "open" && now - current.deadline > grace) {
    out.push({ level: now - current.deadline > 5 * grace ? "bad" : "warn", text: `Round ${current.round} is ${minutes(now - current.deadline)} past its deadline and still open: is the cron running?` });
  }
  for (const r of status.roundLog) if (r.status === "aggregating" && r.requeues) out.push({ level: "bad", text: `Round ${r.round} is still aggregating: its job was queued again ${r.requeues} time${r.requeues === 1 ? "" : "s"} (see the dead-letter queue)` });
  return out;
}

/** The pooled AUROC of the model each round started from, and the final model's. */
export function aurocChart(status: FederationStatus): ChartSpec {
  const measured = new Map([...measuredVersions(status.roundLog).pooled].map(([v, m]) => [v, m.auroc]));
  const final = status.final?.global.auroc;
  if (final !== null && final !== undefined && !measured.has(status.state.modelVersion)) measured.set(status.state.modelVersion, final);
  const points = [...measured].filter(([, auroc]) => auroc !== null).sort((a, b) => a[0] - b[0]);
  return { title: "Pooled AUROC of the global model", xLabel: "model version", yLabel: "AUROC", x: points.map(([v]) => v), series: [{ label: "pooled AUROC", color: PALETTE[0]!, values: points.map(([, a]) => a) }], yRange: [0.4, 1], integerX: true };
}

export const Overview: FC<{ status: FederationStatus; now: number }> = ({ status, now }) => {
  const s = status.state;
  const open = status.roundLog.find((r) => r.status === "open" || r.status === "aggregating");
  const lastClosed = [...status.roundLog].reverse().find((r) => r.status === "closed");
  const alerts = alertsOf(status, now);
  return (
    <>
      <h1>{`Overview: ${status.federation}`} <span id="live" class="muted" aria-live="polite" /></h1>
      <div class="cards">
        <div class="card"><div class="label">Phase</div><div class="value" data-testid="phase">{s.phase}</div></div>
        <div class="card"><div class="label">Round</div><div class="value">{`${s.round} of ${status.rounds}`}</div></div>
        <div class="card"><div class="label">This round</div><div class="value">{open ? `${open.updates} of ${status.sites.length} updates` : "—"}</div></div>
        <div class="card"><div class="label">Sites checked in</div><div class="value">{`${status.sites.filter((x) => x.statsReported).length} of ${status.sites.length}`}</div></div>
        <div class="card"><div class="label">Last aggregation</div><div class="value small">{lastClosed ? when(lastClosed.closedAt) : "—"}</div></div>
        <div class="card"><div class="label">Final pooled AUROC</div><div class="value">{num(status.final?.global.auroc)}</div></div>
      </div>
      <h2>Learning</h2>
      <div class="charts">
        <Chart id="auroc" spec={aurocChart(status)} label="Pooled AUROC of the global model by version" />
        {(() => {
          const loss = lossChart(status);
          return loss && <Chart id="loss" spec={loss} label="Training loss by round, over the sites" />;
        })()}
      </div>
      <h2>Alerts</h2>
      {alerts.length === 0 ? <p class="muted">Nothing to look at.</p> : (
        <ul class="alerts">{alerts.map((a) => <li class={a.level}>{a.text}</li>)}</ul>
      )}
      <p class="muted">{`Strategy ${status.strategy}, codec ${status.codec}${status.secureAggregation ? ", secure aggregation" : ""}${status.async ? ", asynchronous rounds" : ""}.`}</p>
    </>
  );
};

/** A bar of `part` against `whole`, drawn as SVG (no inline style: the page's policy allows none). */
const Bar: FC<{ part: number; whole: number; label: string }> = ({ part, whole, label }) => {
  const width = Math.round(120 * Math.min(1, part / whole));
  return (
    <svg class="bar" width="120" height="10" role="img" aria-label={label}>
      <rect width="120" height="10" rx="5" class="bar-back" />
      <rect width={String(width)} height="10" rx="5" class={part > whole ? "bar-over" : "bar-fill"} />
    </svg>
  );
};

export const Sites: FC<{ status: FederationStatus }> = ({ status }) => {
  const evals = new Map(status.evaluations.filter(isBinaryEvaluation).map((e) => [e.siteId, e]));
  const privacy = new Map((status.privacy ?? []).map((p) => [p.siteId, p]));
  const flags = new Map<string, string[]>();
  for (const f of status.quality?.flags ?? []) flags.set(f.siteId, [...(flags.get(f.siteId) ?? []), f.reason]);
  const excluded = new Set(status.quality?.excluded ?? []);
  const rounds = status.roundLog.filter((r) => r.status === "closed");
  // Counted once: a hundred sites in two hundred rounds of a hundred.
  const roundsIn = new Map<string, number>();
  for (const r of rounds) for (const id of r.included ?? []) roundsIn.set(id, (roundsIn.get(id) ?? 0) + 1);
  return (
    <>
      <h1>{`Sites: ${status.sites.length}`} <span id="live" class="muted" aria-live="polite" /></h1>
      <table>
        <caption class="muted">One row per hospital; accuracy on its own held-out rows.</caption>
        <thead>
          <tr>
            <th scope="col">Site</th><th scope="col" class="num">Test rows</th><th scope="col" class="num">Rounds in</th>
            <th scope="col" class="num">Global</th><th scope="col" class="num">Personalised</th><th scope="col" class="num">Local only</th>
            <th scope="col">Privacy spent</th><th scope="col">Quality</th><th scope="col">Contribution</th>
          </tr>
        </thead>
        <tbody>
          {status.sites.map((site) => {
            const e = evals.get(site.id);
            const g = e && clinicalMetrics(e.global);
            const p = e && clinicalMetrics(e.personalized);
            const l = e && clinicalMetrics(e.local);
            const dp = privacy.get(site.id);
            const inRounds = roundsIn.get(site.id) ?? 0;
            const f = flags.get(site.id) ?? [];
            return (
              <tr data-site={site.id}>
                <th scope="row">{site.name}<div class="muted">{site.id}</div></th>
                <td class="num">{g ? String(g.n) : "—"}</td>
                <td class="num">{`${inRounds} of ${rounds.length}`}</td>
                <td class="num">{pct(g?.accuracy)}</td>
                <td class="num">{pct(p?.accuracy)}</td>
                <td class="num">{pct(l?.accuracy)}</td>
                <td>{dp ? (
                  <><Bar part={dp.epsilon} whole={dp.budget} label={`ε ${dp.epsilon.toFixed(2)} of ${dp.budget}`} />{` ε ${dp.epsilon.toFixed(2)} / ${dp.budget}`}</>
                ) : <span class="muted">no privacy policy</span>}</td>
                <td>{f.length === 0 ? <span class="tag ok">ok</span> : f.map((reason) => <div><span class={`tag ${excluded.has(site.id) ? "bad" : "warn"}`}>{excluded.has(site.id) ? "excluded" : "flagged"}</span> {reason}</div>)}</td>
                <td>{site.quarantined ? <span class="tag bad">{`quarantined to round ${site.quarantinedUntil}`}</span> : site.reputation !== undefined ? `reputation ${site.reputation.toFixed(2)}` : <span class="muted">not scored</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {(() => {
        const contribution = contributionChart(status);
        return contribution && (
          <>
            <h2>Contribution</h2>
            <Chart id="site-contribution" spec={contribution} label="The weight contribution scoring gave each site's update in each round" />
          </>
        );
      })()}
      {(() => {
        const curves = siteCurves(status);
        return curves && (
          <>
            <h2>Learning at each site</h2>
            <div class="charts">
              {curves.auroc && <Chart id="site-auroc" spec={curves.auroc} label="AUROC of each version of the global model at each site" />}
              {curves.loss && <Chart id="site-loss" spec={curves.loss} label="Training loss at each site by round" />}
            </div>
          </>
        );
      })()}
      <h2>Accuracy by site</h2>
      <Chart id="site-accuracy" label="Accuracy of the global, personalised and local-only models by site" spec={{
        title: "Accuracy on each site's held-out rows",
        kind: "dots",
        xTicks: status.sites.map((site) => site.id),
        xLabel: "site",
        yLabel: "accuracy",
        x: status.sites.map((_, i) => i + 1),
        series: (["global", "personalized", "local"] as const).map((k, i) => ({
          label: k === "personalized" ? "personalised" : k === "local" ? "local only" : "global",
          color: PALETTE[i]!,
          values: status.sites.map((site) => {
            const e = evals.get(site.id);
            return e ? clinicalMetrics(e[k]).accuracy : null;
          }),
        })),
        yRange: [0, 1],
      }} />
    </>
  );
};

const seconds = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? "—" : `${((to - from) / 1000).toFixed(1)} s`);
const kib = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);

/** A secure round's four phases: how many sites each accepted, and how long each took (from the session's start, then from the phase before). */
export function secureLine(secure: NonNullable<FederationStatus["roundLog"][number]["secure"]>): string {
  const steps = [["advertised", secure.advertised, "advertise"], ["shared", secure.shared, "shareKeys"], ["masked", secure.masked, "maskedInput"], ["unmasked", secure.unmasked, "unmasking"]] as const;
  let from = secure.startedAt;
  return `secure: ${steps.map(([label, n, phase]) => {
    const at = secure.closedAt?.[phase];
    const took = from !== undefined && at !== undefined ? ` (${seconds(from, at)})` : "";
    from = at;
    return `${n} ${label}${took}`;
  }).join(", ")}`;
}

export const Rounds: FC<{ status: FederationStatus }> = ({ status }) => {
  const name = new Map(status.sites.map((s) => [s.id, s.name]));
  const declinedIn = (round: number) => (status.privacy ?? []).filter((p) => p.refusedRounds.includes(round)).map((p) => p.siteId);
  const log = status.roundLog;
  return (
    <>
      <h1>{`Rounds: ${log.length} of ${status.rounds}`} <span id="live" class="muted" aria-live="polite" /></h1>
      <Chart id="round-bytes" label="Bytes sent up and down by round" spec={{
        title: "Traffic by round", xLabel: "round", yLabel: "KiB", integerX: true,
        x: log.map((r) => r.round),
        series: [
          { label: "up (updates)", color: PALETTE[0]!, values: log.map((r) => r.bytesUp / 1024) },
          { label: "down (models)", color: PALETTE[1]!, values: log.map((r) => r.bytesDown / 1024) },
        ],
      }} />
      <h2>Timeline</h2>
      <table>
        <thead>
          <tr>
            <th scope="col" class="num">Round</th><th scope="col">Status</th><th scope="col">Included</th><th scope="col">Declined</th>
            <th scope="col">Refused</th><th scope="col">Late</th><th scope="col">Missing</th><th scope="col" class="num">Up</th><th scope="col" class="num">Down</th>
            <th scope="col" class="num">Collecting</th><th scope="col" class="num">Aggregating</th><th scope="col" class="num">Base AUROC</th><th scope="col" class="num">Loss</th>
          </tr>
        </thead>
        <tbody>
          {[...log].reverse().map((r) => {
            const included = r.included ?? [];
            const declined = declinedIn(r.round);
            const refused = r.rejected ?? [];
            // Updates sent after the round's set was fixed, among the newest refusals the status lists (an asynchronous
            // update's refusal names the round it trained in, not the one that refused it: not shown).
            const late = status.async ? [] : [...new Set(status.rejections.filter((x) => x.round === r.round && x.code === "ROUND_CLOSED" && x.siteId !== null && x.message.startsWith(`POST /v1/rounds/${r.round}/updates`)).map((x) => x.siteId!))];
            // Sites that could have sent and did not: not before the round's set is fixed, never the sites the quality checks left out.
            const excluded = new Set(status.quality?.excluded ?? []);
            const missing = r.included === undefined ? [] : status.sites.map((s) => s.id).filter((id) => !excluded.has(id) && !included.includes(id) && !declined.includes(id) && !refused.some((x) => x.siteId === id) && !late.includes(id));
            const end = r.closedAt;
            return (
              <tr data-round={String(r.round)}>
                <td class="num">{String(r.round)}</td>
                <td><span class={`tag ${r.status === "closed" ? "ok" : r.status === "skipped" ? "bad" : "warn"}`}>{r.status}</span>{r.reason && <div class="muted">{r.reason}</div>}{r.secure && <div class="muted">{secureLine(r.secure)}</div>}</td>
                <td>{included.length === 0 ? "—" : `${included.length}: ${included.map((id) => name.get(id) ?? id).join(", ")}`}</td>
                <td>{declined.length === 0 ? "—" : declined.map((id) => name.get(id) ?? id).join(", ")}</td>
                <td>{refused.length === 0 ? "—" : refused.map((x) => <div>{`${name.get(x.siteId) ?? x.siteId}: ${x.code}`}<div class="muted">{x.message}</div></div>)}</td>
                <td>{late.length === 0 ? "—" : late.map((id) => name.get(id) ?? id).join(", ")}</td>
                <td>{missing.length === 0 ? "—" : missing.map((id) => name.get(id) ?? id).join(", ")}</td>
                <td class="num">{kib(r.bytesUp)}</td>
                <td class="num">{kib(r.bytesDown)}</td>
                <td class="num">{seconds(r.openedAt, r.aggregationStartedAt ?? end)}</td>
                <td class="num">{seconds(r.aggregationStartedAt, end)}</td>
                <td class="num">{num(r.baseModel?.auroc)}</td>
                <td class="num">{num(r.trainLoss)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
};

/** The global model at the consortium's operating threshold beside 0.5: pooled and at each site. */
const OperatingPointTable: FC<{ op: OperatingPoint | null; names: Map<string, string> }> = ({ op, names }) => {
  if (op === null) return <></>;
  const cells = (x: RatesAt) => [x.sensitivity, x.specificity, x.ppv, x.npv].map((v) => <td class="num">{pct(v)}</td>);
  return (
    <>
      <h2>{`Operating point: threshold ${op.threshold.toFixed(3)}`}</h2>
      <p class="muted">{`Chosen by ${describeRule(op.rule)} on the scores of ${op.chosenOn.rows} training rows pooled over ${op.chosenOn.sites} sites; the rates are on the held-out rows.`}</p>
      <table>
        <thead><tr><th scope="col">Held-out rows</th><th scope="col" class="num">Sensitivity</th><th scope="col" class="num">Specificity</th><th scope="col" class="num">PPV</th><th scope="col" class="num">NPV</th><th scope="col" class="num">Sensitivity at 0.5</th><th scope="col" class="num">Specificity at 0.5</th><th scope="col" class="num">PPV at 0.5</th><th scope="col" class="num">NPV at 0.5</th></tr></thead>
        <tbody>
          <tr data-site="pooled"><th scope="row">Pooled</th>{cells(op.pooled)}{cells(op.pooledAtHalf)}</tr>
          {op.sites.map((x) => <tr data-site={x.siteId}><th scope="row">{names.get(x.siteId) ?? x.siteId}</th>{cells(x.at)}{cells(x.atHalf)}</tr>)}
        </tbody>
      </table>
    </>
  );
};

/** A K-class model's per-class figures and its confusion matrix, pooled over the sites' held-out rows. */
export const ClassTable: FC<{ names: readonly string[]; summary: MulticlassSummary }> = ({ names, summary }) => (
  <>
    <p>Accuracy {num(summary.accuracy)}, macro AUROC {num(summary.macroAuroc)} over {String(summary.n)} held-out rows.</p>
    <table data-table="classes">
      <thead><tr><th scope="col">Class</th><th scope="col" class="num">Prevalence</th><th scope="col" class="num">Sensitivity</th><th scope="col" class="num">Specificity</th><th scope="col" class="num">AUROC (one vs rest)</th></tr></thead>
      <tbody>
        {summary.classes.map((c, i) => <tr><th scope="row">{names[i] ?? String(i)}</th><td class="num">{pct(c.prevalence)}</td><td class="num">{pct(c.sensitivity)}</td><td class="num">{pct(c.specificity)}</td><td class="num">{num(c.auroc)}</td></tr>)}
      </tbody>
    </table>
    <table data-table="confusion">
      <caption>Confusion matrix: true class by row, predicted class by column</caption>
      <thead><tr><th scope="col">true / predicted</th>{names.map((n) => <th scope="col" class="num">{n}</th>)}</tr></thead>
      <tbody>
        {summary.confusion.map((row, t) => <tr><th scope="row">{names[t] ?? String(t)}</th>{row.map((v) => <td class="num">{String(v)}</td>)}</tr>)}
      </tbody>
    </table>
  </>
);

/** The pooled ROC curve and calibration of the final global model, from every site's score histograms, and each site's metrics. */
export const Models: FC<{ status: FederationStatus; registry: ModelsView | null }> = ({ status, registry }) => {
  const evals = status.evaluations.filter(isBinaryEvaluation);
  const pooled = evals.length > 0 ? mergeCounts(evals.map((e) => e.global)) : null;
  const roc = pooled ? rocCurve(pooled.pos, pooled.neg) : null;
  const groups = pooled ? calibrationGroups(pooled.pos, pooled.neg, { groups: CALIBRATION_GROUPS }) : [];
  const name = new Map(status.sites.map((s) => [s.id, s.name]));
  return (
    <>
      <h1>Models</h1>
      <h2>The run's final model, pooled over every site's held-out rows</h2>
      {roc ? (
        <div class="charts">
          <Chart id="roc" label="Pooled ROC curve of the final global model" spec={{
            title: `ROC (AUROC ${num(status.final?.global.auroc)})`, xLabel: "false-positive rate", yLabel: "true-positive rate",
            x: roc.map((p) => p.fpr), yRange: [0, 1],
            series: [{ label: "global model", color: PALETTE[0]!, values: roc.map((p) => p.tpr) }, { label: "chance", color: "#9aa3b2", values: roc.map((p) => p.fpr) }],
          }} />
          <Chart id="calibration" label="Calibration of the final global model: observed rate against predicted risk" spec={{
            title: "Calibration (deciles of risk)", xLabel: "predicted risk", yLabel: "observed rate",
            x: groups.map((g) => g.predicted), yRange: [0, 1],
            series: [{ label: "observed", color: PALETTE[1]!, values: groups.map((g) => g.observed) }, { label: "perfect", color: "#9aa3b2", values: groups.map((g) => g.predicted) }],
          }} />
        </div>
      ) : status.finalClasses ? <ClassTable names={status.finalClasses.names} summary={status.finalClasses.global} /> : <p class="muted">No evaluation yet: the sites evaluate after the last round.</p>}
      <h2>By site</h2>
      <table>
        <thead><tr><th scope="col">Site</th><th scope="col" class="num">Rows</th><th scope="col" class="num">AUROC global</th><th scope="col" class="num">AUROC personalised</th><th scope="col" class="num">Sensitivity at 0.5</th><th scope="col" class="num">Specificity at 0.5</th></tr></thead>
        <tbody>
          {evals.map((e) => {
            const g = clinicalMetrics(e.global);
            const p = clinicalMetrics(e.personalized);
            return <tr data-site={e.siteId}><th scope="row">{name.get(e.siteId) ?? e.siteId}</th><td class="num">{String(g.n)}</td><td class="num">{num(g.auroc)}</td><td class="num">{num(p.auroc)}</td><td class="num">{pct(g.sensitivity)}</td><td class="num">{pct(g.specificity)}</td></tr>;
          })}
        </tbody>
      </table>
      <OperatingPointTable op={status.final?.operatingPoint ?? null} names={name} />
      <h2>Registry</h2>
      {!registry || registry.versions.length === 0 ? <p class="muted">No version registered yet.</p> : (
        <table>
          <thead><tr><th scope="col" class="num">Version</th><th scope="col">Run</th><th scope="col" class="num">AUROC</th><th scope="col" class="num">Sites</th><th scope="col">Gate</th><th scope="col">Registered</th></tr></thead>
          <tbody>
            {[...registry.versions].reverse().map((v) => (
              <tr data-version={String(v.version)}>
                <td class="num">{`v${v.version}`}{v.champion && <> <span class="tag ok">champion</span></>}</td>
                <td>{v.run}</td><td class="num">{num(v.auroc)}</td><td class="num">{String(v.sites)}</td>
                <td>{v.decision ? v.decision.reason : "—"}</td>
                <td>{when(v.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
};

export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: "ok" | "refused" | "failed";
  readonly since?: number;
}

/** The newest records of the trail that pass the filter, newest first, read from a window of the trail's tail. */
export const Audit: FC<{ records: readonly { seq: number; text: string }[]; end: number; window: number; filter: AuditFilter; sinceText: string; error?: string }> = ({ records, end, window, filter, sinceText, error }) => {
  const parsed = records.map((r) => ({ seq: r.seq, record: AuditRecord.safeParse((() => { try { return JSON.parse(r.text) as unknown; } catch { return null; } })()) }));
  const shown = parsed.filter(({ record }) => {
    if (!record.success) return true;
    const r = record.data;
    return (!filter.actor || r.actor.id === filter.actor) && (!filter.action || r.action.startsWith(filter.action)) && (!filter.outcome || r.outcome === filter.outcome) && (filter.since === undefined || r.at >= filter.since);
  }).reverse();
  return (
    <>
      <h1>{`Audit trail: ${end} records`}</h1>
      <form method="get" action="/dashboard/audit" class="panel filters">
        <label>Actor <input name="actor" value={filter.actor ?? ""} placeholder="site or operator id" /></label>
        <label>Action <input name="action" value={filter.action ?? ""} placeholder="e.g. site. or round.close" /></label>
        <label>Outcome <select name="outcome">{["", "ok", "refused", "failed"].map((o) => <option value={o} selected={(filter.outcome ?? "") === o}>{o || "any"}</option>)}</select></label>
        <label>Since <input name="since" value={sinceText} placeholder="2027-01-01" /></label>
        <button type="submit">Filter</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <p class="muted">{`The newest ${Math.min(window, end)} records, filtered: ${shown.length} shown. The whole trail: consilium audit export; its integrity: consilium audit verify.`}</p>
      <table>
        <thead><tr><th scope="col" class="num">Seq</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Outcome</th></tr></thead>
        <tbody>
          {shown.map(({ seq, record }) => record.success ? (
            <tr data-seq={String(seq)}>
              <td class="num">{String(seq)}</td><td>{when(record.data.at)}</td><td>{`${record.data.actor.kind} ${record.data.actor.id}`}</td>
              <td>{record.data.action}</td><td>{record.data.object}</td>
              <td><span class={`tag ${record.data.outcome === "ok" ? "ok" : "bad"}`}>{record.data.outcome}</span>{record.data.code && <span class="muted">{` ${record.data.code}`}</span>}</td>
            </tr>
          ) : <tr data-seq={String(seq)}><td class="num">{String(seq)}</td><td colspan={5} class="error">this record does not read: consilium audit verify names what is wrong</td></tr>)}
        </tbody>
      </table>
    </>
  );
};
