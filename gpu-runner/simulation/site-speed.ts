/**
 * @module
 * Simulated site speed, so that heterogeneous consortia are reproducible on one machine: a site's
 * compute is `compute` times slower than this machine (its local training takes that multiple of
 * the time it took here), and its link has a bandwidth and a latency. The runner waits out the
 * difference before its update leaves, so the coordinator sees the update when a site of that
 * speed would have sent it.
 */
import { z } from "zod";

export const SiteSpeed = z.object({
  /** Local training takes this many times as long as on this machine (1: as fast). */
  compute: z.number().min(1).max(10_000),
  /** Bytes per second, both directions; unlimited when absent. */
  bandwidth: z.number().positive().optional(),
  /** Milliseconds added to each download and each upload. */
  latencyMs: z.number().nonnegative().max(600_000).optional(),
});
export type SiteSpeed = z.infer<typeof SiteSpeed>;

/** How much longer than here one training step takes at `speed`, in milliseconds. */
export function extraMs(speed: SiteSpeed, computeMs: number, bytesUp: number, bytesDown: number): number {
  const link = speed.bandwidth === undefined ? 0 : ((bytesUp + bytesDown) / speed.bandwidth) * 1000;
  return (speed.compute - 1) * computeMs + link + 2 * (speed.latencyMs ?? 0);
}

const UNITS: Record<string, number> = { bit: 1 / 8, kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8 };

/**
 * Per-site speeds from a spec such as `3:10x` (site 3 computes ten times slower) or
 * `*:100mbit:20ms,3:10x:2mbit`: entries separated by commas, each a 1-based site number or `*`
 * (every site) followed by `:Nx` (compute slowdown), `:N[k|m|g]bit` (bandwidth per second) and/or
 * `:Nms` (latency); later entries override earlier ones. Throws with the offending part.
 *
 * @example
 * parseSiteSpeeds("2:10x", 4); // [{compute: 1}, {compute: 10}, {compute: 1}, {compute: 1}]
 */
export function parseSiteSpeeds(spec: string, sites: number): SiteSpeed[] {
  const speeds: SiteSpeed[] = Array.from({ length: sites }, () => ({ compute: 1 }));
  for (const entry of spec.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [who, ...parts] = entry.split(":");
    if (parts.length === 0) throw new Error(`"${entry}": expected SITE:PART[:PART…], e.g. 3:10x or *:2mbit:50ms`);
    const targets = who === "*" ? speeds.map((_, i) => i) : [siteIndex(who ?? "", sites, entry)];
    const patch: Partial<SiteSpeed> = {};
    for (const part of parts) Object.assign(patch, parsePart(part.trim().toLowerCase(), entry));
    for (const i of targets) speeds[i] = SiteSpeed.parse({ ...speeds[i], ...patch });
  }
  return speeds;
}

function siteIndex(who: string, sites: number, entry: string): number {
  const n = /^\d+$/.test(who) ? Number(who) : Number.NaN;
  if (!(n >= 1 && n <= sites)) throw new Error(`"${entry}": site "${who}" is not * or a number from 1 to ${sites}`);
  return n - 1;
}

function parsePart(part: string, entry: string): Partial<SiteSpeed> {
  const m = /^(\d+(?:\.\d+)?)(x|ms|bit|kbit|mbit|gbit)$/.exec(part);
  if (!m) throw new Error(`"${entry}": "${part}" is not Nx (compute slowdown), N[k|m|g]bit (bandwidth) or Nms (latency)`);
  const value = Number(m[1]);
  const unit = m[2] ?? "";
  if (unit === "x") {
    if (value < 1) throw new Error(`"${entry}": a compute slowdown is at least 1x`);
    return { compute: value };
  }
  if (unit === "ms") return { latencyMs: value };
  if (value <= 0) throw new Error(`"${entry}": bandwidth must be positive`);
  return { bandwidth: value * (UNITS[unit] ?? 1) };
}
