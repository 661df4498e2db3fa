/**
 * @module
 * What robust aggregation costs: each aggregator's kernel over the same site deltas, beside the
 * sample-weighted mean FedAvg takes, measured in one run (median of the repeats after a warm-up).
 * Buffers are allocated and touched once before timing, so page faults on first touch do not
 * count against whichever kernel runs first; the whole-strategy rows do allocate their delta and
 * model each round, as the coordinator does.
 *
 *   npx tsx bench/aggregators.ts                                  # 50 sites × 1,000,000 parameters
 *   BENCH_PARAMS=100000 BENCH_REPEATS=5 npx tsx bench/aggregators.ts   # a quick run
 */
import { centeredClipOf } from "../core/strategy/centered-clip.ts";
import { clipMedian } from "../core/strategy/clip-median.ts";
import { createStrategy } from "../core/strategy/create-strategy.ts";
import { geometricMedianOf } from "../core/strategy/geomed.ts";
import { krumSelect } from "../core/strategy/krum.ts";
import { weightedMedianOf } from "../core/strategy/median.ts";
import type { SiteUpdate } from "../core/strategy/strategy.ts";
import { weightedTrimmedMeanOf } from "../core/strategy/trimmed-mean.ts";
import { weightedMeanOf } from "../core/strategy/weighted-mean.ts";

const sites = Number(process.env.BENCH_SITES ?? 50);
const params = Number(process.env.BENCH_PARAMS ?? 1_000_000);
const repeats = Math.max(3, Number(process.env.BENCH_REPEATS ?? 3));

/** Site deltas: a shared direction plus each site's own noise of the same size, from a seeded LCG. */
function siteDeltas(): Float32Array[] {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  const shared = Float32Array.from({ length: params }, () => next() * 0.02);
  return Array.from({ length: sites }, () => shared.map((x) => x + next() * 0.02));
}

const deltas = siteDeltas();
const weights = Array.from({ length: sites }, (_, s) => 50 + ((s * 37) % 200));
const ids = deltas.map((_, s) => `site-${String(s).padStart(3, "0")}`);
const updates: SiteUpdate[] = deltas.map((delta, s) => ({ siteId: ids[s] as string, delta, weight: weights[s] as number }));
const out = new Float32Array(params).fill(1);
const center = new Float32Array(params);
weightedMeanOf(deltas, weights, center);
const global = new Float32Array(params).fill(0.5);
const tau = 0.1 * Math.sqrt(params) * 0.02;
const notes: string[] = [];

/** Median seconds of `repeats` runs after one warm-up. */
function time(run: () => unknown): number {
  run();
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    run();
    seconds.push((performance.now() - t) / 1000);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)] as number;
}

const rows: [string, () => unknown][] = [
  ["`mean` (FedAvg's sample-weighted mean)", () => weightedMeanOf(deltas, weights, out)],
  ["`median` (weighted, coordinate-wise)", () => weightedMedianOf(deltas, weights, out)],
  ["`trimmed-mean:0.2` (weighted, coordinate-wise)", () => weightedTrimmedMeanOf(deltas, weights, 0.2, out)],
  [
    "`geomed` (smoothed Weiszfeld, ≤ 4 iterations, stops at tolerance)",
    () => {
      const used = geometricMedianOf(deltas, weights, 4, out);
      if (!notes.some((n) => n.startsWith("geomed"))) notes.push(`geomed stopped after ${used} iteration${used === 1 ? "" : "s"} on these deltas`);
    },
  ],
  ["`geomed`, all 4 iterations (tolerance 0: the worst case)", () => geometricMedianOf(deltas, weights, 4, out, 0)],
  [
    `\`krum:${Math.floor(sites / 5)}\` (Multi-Krum, keeps n − f)`,
    () => {
      const kept = krumSelect(deltas, ids, Math.floor(sites / 5), sites - Math.floor(sites / 5));
      weightedMeanOf(
        kept.map((s) => deltas[s] as Float32Array),
        kept.map((s) => weights[s] as number),
        out,
      );
    },
  ],
  ["`centered-clip` (1 iteration, from the previous round's centre)", () => centeredClipOf(deltas, weights, center, tau, 1, out)],
  ["`clip-median:3` (the transform alone)", () => clipMedian(3).apply(updates, params)],
  ["whole strategy `fedavg` (allocates delta and model)", () => createStrategy("fedavg").aggregate({ global, updates }, { scalars: {}, vectors: {} })],
  ["whole strategy `robust` = `clip-median:3,geomed` (allocates delta and model)", () => createStrategy("robust").aggregate({ global, updates }, { scalars: {}, vectors: {} })],
];

const measured = rows.map(([label, run]) => [label, time(run)] as const);
const base = measured[0]?.[1] ?? 1;
process.stdout.write(`${sites} sites × ${params.toLocaleString("en-US")} parameters; median of ${repeats} after a warm-up; node ${process.version}\n\n`);
process.stdout.write(
  [
    "| aggregator | seconds | ratio to `mean` |",
    "|---|---|---|",
    ...measured.map(([label, seconds]) => `| ${label} | ${seconds.toFixed(3)} | ${(seconds / base).toFixed(1)}× |`),
    "",
    ...notes.map((n) => `${n}\n`),
  ].join("\n"),
);
