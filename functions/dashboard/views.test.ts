import { describe, expect, it } from "vitest";
import { FederationStatus } from "../../core/schemas/status.ts";
import { alertsOf, contributionChart, Models, PALETTE, Rounds, secureLine, siteSeries, STUCK_GRACE_MS } from "./views.tsx";

const T = 1_700_000_000_000;
const round = (r: number, status: "open" | "aggregating" | "closed", extra: object = {}) => ({ round: r, baseVersion: r - 1, status, openedAt: T, deadline: T + 60_000, updates: 2, bytesUp: 10, bytesDown: 20, baseModel: null, ...extra });
const fixture = (roundLog: object[], rejections: object[] = []) =>
  FederationStatus.parse({
    federation: "f", strategy: "fedavg", codec: "float32", rounds: 5, state: { phase: "training", round: roundLog.length, modelVersion: 1, updatedAt: T },
    sites: [{ id: "a", name: "Alpha", statsReported: true, updates: 1, evaluated: false }, { id: "b", name: "Beta", statsReported: true, updates: 1, evaluated: false }, { id: "c", name: "Gamma", statsReported: true, updates: 0, evaluated: false }],
    roundLog, rejections, evaluations: [], final: null,
  });

describe("the dashboard's views", () => {
  it("says how many sites each secure phase accepted and how long it took, from the session's start", () => {
    const secure = { participants: 6, neighbours: 4, threshold: 3, advertised: 6, shared: 6, masked: 5, unmasked: 5, startedAt: 1_000, closedAt: { advertise: 3_500, shareKeys: 4_000, maskedInput: 10_000, unmasking: 10_250 } };
    expect(secureLine(secure)).toBe("secure: 6 advertised (2.5 s), 6 shared (0.5 s), 5 masked (6.0 s), 5 unmasked (0.3 s)");
    // A record from before phase times, and a round that failed after two phases.
    expect(secureLine({ ...secure, startedAt: undefined, closedAt: undefined })).toBe("secure: 6 advertised, 6 shared, 5 masked, 5 unmasked");
    expect(secureLine({ ...secure, masked: 0, unmasked: 0, closedAt: { advertise: 2_000, shareKeys: 2_100 } })).toBe("secure: 6 advertised (1.0 s), 6 shared (0.1 s), 0 masked, 0 unmasked");
  });

  it("draws one curve per site while the palette tells them apart, and the sites' spread beyond", () => {
    const few = Array.from({ length: PALETTE.length }, (_, i) => ({ label: `site ${i}`, values: [i, null] }));
    expect(siteSeries(few, 2).map((s) => s.label)).toEqual(few.map((s) => s.label));
    // Eleven sites: values 0..10 at x = 0, one site missing at x = 1.
    const many = Array.from({ length: 11 }, (_, i) => ({ label: `site ${i}`, values: [i, i === 0 ? null : 2 * i] }));
    const spread = siteSeries(many, 2);
    expect(spread.map((s) => s.label)).toEqual(["90th percentile of 11 sites", "median site", "10th percentile"]);
    expect(spread.map((s) => s.values[0])).toEqual([9, 5, 1]);
    // x = 1: 2, 4, …, 20 (ten values): the median between the 5th and 6th, 11; the 10th percentile 2 + 0.9 × 2.
    expect(spread[1]!.values[1]).toBe(11);
    expect(spread[2]!.values[1]).toBeCloseTo(3.8, 12);
  });

  it("raises a stuck round: the round training now open past its deadline and the cron's grace, or aggregating with its job queued again", () => {
    const open = fixture([round(1, "closed", { included: ["a", "b"], closedAt: T + 1 }), round(2, "open")]);
    const deadline = T + 60_000;
    // Within the grace the cron's next tick closes it: nothing to say.
    expect(alertsOf(open, deadline + STUCK_GRACE_MS)).toEqual([]);
    expect(alertsOf(open, deadline + STUCK_GRACE_MS + 60_000)).toEqual([{ level: "warn", text: "Round 2 is 3 min past its deadline and still open: is the cron running?" }]);
    expect(alertsOf(open, deadline + 3 * 3_600_000)[0]).toEqual({ level: "bad", text: "Round 2 is 3.0 h past its deadline and still open: is the cron running?" });
    // A secure round's phases may run past the deadline; a run abandoned with its round open is not training.
    expect(alertsOf(FederationStatus.parse({ ...open, secureAggregation: { phaseSeconds: 600 } }), deadline + 30 * 60_000)).toEqual([]);
    expect(alertsOf(FederationStatus.parse({ ...open, state: { ...open.state, phase: "done" } }), deadline + 3 * 3_600_000)).toEqual([]);
    const requeued = fixture([round(1, "aggregating", { included: ["a"], requeues: 2 })]);
    expect(alertsOf(requeued, T)).toEqual([{ level: "bad", text: "Round 1 is still aggregating: its job was queued again 2 times (see the dead-letter queue)" }]);
  });

  it("names the sites whose update came after the round's set was fixed as late, not missing", () => {
    const status = fixture([round(1, "closed", { included: ["a"], closedAt: T + 1 })], [
      { at: T + 2, siteId: "b", round: 1, code: "ROUND_CLOSED", message: "POST /v1/rounds/1/updates: round 1 started aggregating before the update of site b was recorded; it is not included" },
      // A decline sent to the closed round is no late update.
      { at: T + 3, siteId: "c", round: 1, code: "ROUND_CLOSED", message: "POST /v1/rounds/1/declines: round 1 is not open" },
    ]);
    const row = /<tr data-round="1">(.*?)<\/tr>/s.exec(String(Rounds({ status })))![1]!;
    const cells = [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));
    // Round, status, included, declined, refused, late, missing.
    expect(cells.slice(2, 7)).toEqual(["1: Alpha", "—", "—", "Beta", "Gamma"]);
  });

  it("charts the weight contribution scoring gave each site in each scored round, and nothing without scoring", () => {
    const score = (siteId: string, factor: number, action: "keep" | "down-weight" | "quarantine") => ({ siteId, distance: 1, agreement: 0.5, alignment: 0.5, norm: 1, action, factor, reason: action });
    const status = fixture([
      round(1, "closed", { included: ["a", "b", "c"], scores: [score("a", 1, "keep"), score("b", 0.4, "down-weight"), score("c", 1, "keep")] }),
      round(2, "closed", { included: ["a", "c"], scores: [score("a", 1, "keep"), score("b", 0, "quarantine"), score("c", 1, "keep")] }),
      round(3, "open"),
    ]);
    const chart = contributionChart(status)!;
    expect(chart.x).toEqual([1, 2]);
    expect(chart.series.map((s) => [s.label, s.values])).toEqual([["Alpha", [1, 1]], ["Beta", [0.4, 0]], ["Gamma", [1, 1]]]);
    expect(contributionChart(fixture([round(1, "closed")]))).toBeNull();
  });
});

describe("the models page's operating point", () => {
  it("shows the threshold, how it was chosen, and the rates at it beside 0.5, pooled and by site; nothing without one", () => {
    const rates = (threshold: number, sensitivity: number, specificity: number, ppv: number | null, npv: number) => ({ threshold, n: 40, sensitivity, specificity, ppv, npv, intervals: { sensitivity: null, specificity: null, ppv: null, npv: null } });
    const metrics = { n: 40, prevalence: 0.25, accuracy: 0.8, sensitivity: 0.2, specificity: 0.96, auroc: 0.78 };
    const operatingPoint = {
      rule: { rule: "sensitivity", target: 0.8 }, threshold: 0.183, chosenOn: { rows: 700, sites: 2 },
      pooled: rates(0.183, 0.8, 0.6, 0.4, 0.9), pooledAtHalf: rates(0.5, 0.2, 0.96, 0.625, 0.78),
      sites: [{ siteId: "a", at: rates(0.183, 0.75, 0.65, 0.41, 0.889), atHalf: rates(0.5, 0.25, 0.95, null, 0.8) }],
    };
    const base = fixture([]);
    const html = String(Models({ status: FederationStatus.parse({ ...base, final: { global: metrics, personalized: metrics, local: metrics, sites: 2, operatingPoint } }), registry: null }));
    expect(html).toContain("Operating point: threshold 0.183");
    expect(html).toContain("Chosen by sensitivity ≥ 0.80 on the scores of 700 training rows pooled over 2 sites");
    expect(html).toMatch(/data-site="pooled"><th scope="row">Pooled<\/th><td class="num">80\.0%<\/td><td class="num">60\.0%<\/td><td class="num">40\.0%<\/td><td class="num">90\.0%<\/td><td class="num">20\.0%<\/td>/);
    expect(html).toMatch(/data-site="a"><th scope="row">Alpha<\/th><td class="num">75\.0%<\/td>/);
    const without = String(Models({ status: FederationStatus.parse({ ...base, final: { global: metrics, personalized: metrics, local: metrics, sites: 2, operatingPoint: null } }), registry: null }));
    expect(without).not.toContain("Operating point");
  });
});
