import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { weightedMedianOf } from "../strategy/median.ts";
import type { SiteUpdate } from "../strategy/strategy.ts";
import { initialReputation, weightFactor, type Reputation } from "./reputation.ts";
import { scoreUpdates } from "./score-updates.ts";
import { createScoringPolicy, type ScoringDecision } from "./scoring-policy.ts";

const DIM = 200;

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Unit vectors g and h ⊥ g: honest sites move along g, a non-IID site along g rotated in the (g, h) plane. */
function directions(rng: () => number): { g: Float64Array; h: Float64Array } {
  const g = Float64Array.from({ length: DIM }, () => gaussian(rng));
  const h = Float64Array.from({ length: DIM }, () => gaussian(rng));
  const gn = Math.hypot(...g);
  g.forEach((x, i) => (g[i] = x / gn));
  const dot = g.reduce((s, x, i) => s + x * h[i]!, 0);
  h.forEach((x, i) => (h[i] = x - dot * g[i]!));
  const hn = Math.hypot(...h);
  h.forEach((x, i) => (h[i] = x / hn));
  return { g, h };
}

type Behaviour = (honest: (direction: Float64Array) => Float32Array, dir: { g: Float64Array; h: Float64Array }) => Float32Array;

const honestSite: Behaviour = (honest, { g }) => honest(g);
const signFlip: Behaviour = (honest, { g }) => honest(g).map((x) => -x);
const scaled50: Behaviour = (honest, { g }) => honest(g).map((x) => 50 * x);
const rotated60: Behaviour = (honest, { g, h }) => honest(g.map((x, i) => Math.cos(Math.PI / 3) * x + Math.sin(Math.PI / 3) * h[i]!));

/**
 * Runs `rounds` rounds of scoring: each site's delta is its direction plus noise of the same norm
 * (minibatch noise), the aggregate is the weighted median of the sites not in quarantine.
 */
function simulate(sites: Record<string, Behaviour>, rounds: number, seed = 11): ScoringDecision[][] {
  const rng = seededRandom(seed);
  const dir = directions(rng);
  const honest = (direction: Float64Array) => Float32Array.from(direction, (x) => x + gaussian(rng) / Math.sqrt(DIM));
  const policy = createScoringPolicy();
  let state: Reputation = initialReputation;
  const log: ScoringDecision[][] = [];
  for (let round = 1; round <= rounds; round++) {
    const updates: SiteUpdate[] = Object.entries(sites).map(([siteId, behave]) => ({ siteId, delta: behave(honest, dir), weight: 10 }));
    const kept = updates.filter((u) => weightFactor(state, u.siteId, round) > 0);
    const aggregate = weightedMedianOf(
      kept.map((u) => u.delta),
      kept.map((u) => u.weight * weightFactor(state, u.siteId, round)),
      new Float32Array(DIM),
    );
    const excluded = updates.filter((u) => !kept.includes(u)).map((u) => u.siteId);
    const next = policy.decide(state, round, scoreUpdates(updates, aggregate, excluded));
    state = next.state;
    log.push(next.decisions);
  }
  return log;
}

const actionsOf = (log: ScoringDecision[][], siteId: string) => log.map((ds) => ds.find((d) => d.siteId === siteId)!.action);

describe("scoring across rounds", () => {
  it("quarantines a sign-flipped site and a ×50 site in round 1, and no honest site", () => {
    // Prepare
    const sites = { h1: honestSite, h2: honestSite, h3: honestSite, h4: honestSite, h5: honestSite, flip: signFlip, big: scaled50 };

    // Execute
    const log = simulate(sites, 10);

    // Assert
    expect(actionsOf(log, "flip")[0]).toBe("quarantine");
    expect(actionsOf(log, "big")[0]).toBe("quarantine");
    for (const id of ["h1", "h2", "h3", "h4", "h5"]) expect(actionsOf(log, id)).not.toContain("quarantine");
  });

  it("never flags identical honest sites", () => {
    // Prepare
    const same: Behaviour = () => Float32Array.from({ length: DIM }, (_, i) => Math.sin(i));

    // Execute
    const log = simulate({ a: same, b: same, c: same, d: same }, 10);

    // Assert
    expect(new Set(log.flat().map((d) => d.action))).toEqual(new Set(["keep"]));
  });

  it("does not quarantine an honest site whose direction is rotated 60° (non-IID)", () => {
    // Prepare
    const sites = { h1: honestSite, h2: honestSite, h3: honestSite, h4: honestSite, other: rotated60 };

    // Execute
    const log = [11, 12, 13].flatMap((seed) => simulate(sites, 10, seed));

    // Assert
    expect(actionsOf(log, "other")).not.toContain("quarantine");
  });
});

describe("scoring a non-IID federation near its fixed point", () => {
  /**
   * Each site pulls from the global model w towards its own optimum: δᵢ = θᵢ − w. From the same
   * start the deltas agree; once w sits at the mean of the optima they cancel and point apart. One
   * site's optimum lies far out (Switzerland's 98 % positives), so its norm grows as the rest converge.
   */
  function run(attacker: ((d: Float32Array) => Float32Array) | null, rounds: number): ScoringDecision[][] {
    const rng = seededRandom(5);
    const optima = [0, 1, 2, 3, 4].map((k) => Float32Array.from({ length: DIM }, (_, i) => 3 + (k === 4 ? 5 : 1) * gaussian(rng) * 0.3 + (i % 2 === 0 ? 1 : 0)));
    let w = new Float32Array(DIM);
    const policy = createScoringPolicy();
    let state: Reputation = initialReputation;
    const log: ScoringDecision[][] = [];
    for (let round = 1; round <= rounds; round++) {
      const updates: SiteUpdate[] = optima.map((theta, k) => {
        const honest = Float32Array.from(theta, (t, i) => 0.8 * (t - w[i]!));
        return { siteId: `s${k}`, delta: k === 0 && attacker ? attacker(honest) : honest, weight: 10 };
      });
      const kept = updates.filter((u) => weightFactor(state, u.siteId, round) > 0);
      const excluded = updates.filter((u) => !kept.includes(u)).map((u) => u.siteId);
      const aggregate = weightedMedianOf(kept.map((u) => u.delta), kept.map(() => 1), new Float32Array(DIM));
      const next = policy.decide(state, round, scoreUpdates(updates, aggregate, excluded));
      w = Float32Array.from(w, (x, i) => x + aggregate[i]!);
      state = next.state;
      log.push(next.decisions);
    }
    return log;
  }

  it("quarantines no honest site, the outlying one included, over 30 rounds", () => {
    // Execute
    const log = run(null, 30);

    // Assert
    for (const id of ["s0", "s1", "s2", "s3", "s4"]) expect(actionsOf(log, id)).not.toContain("quarantine");
  });

  it("quarantines a sign-flipping site in round 1 and quarantines no honest site", () => {
    // Execute
    const log = run((d) => d.map((x) => -x), 30);

    // Assert
    expect(actionsOf(log, "s0")[0]).toBe("quarantine");
    for (const id of ["s1", "s2", "s3", "s4"]) expect(actionsOf(log, id)).not.toContain("quarantine");
  });
});
