/**
 * @module
 * `kill -9` of the one-machine coordinator at 20 seeded points of a heart-disease federation (in
 * rounds and in aggregation), each followed by a restart on the same data folder, against the same
 * federation run without kills: are the model bytes the same, and did the runners wait it out?
 * `CRASH_SEED`, `CRASH_ROUNDS`, `CRASH_KILLS` and `CRASH_STRATEGY` (e.g. fedavg) change the run.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pickKillPoints, runCrashFederation, type CrashRun } from "../test/support/crash-harness.ts";

const seed = Number(process.env.CRASH_SEED ?? 1);
const rounds = Number(process.env.CRASH_ROUNDS ?? 8);
const count = Number(process.env.CRASH_KILLS ?? 20);
const strategy = process.env.CRASH_STRATEGY;
const say = (line: string) => void process.stdout.write(`${line}\n`);
const digest = (bytes: Buffer | undefined) => (bytes ? createHash("sha256").update(bytes).digest("hex").slice(0, 16) : "absent");

const work = await mkdtemp(join(tmpdir(), "consilium-crash-bench-"));
try {
  say(`heart-disease, 4 sites, ${rounds} rounds, strategy ${strategy ?? "the recipe's (scaffold)"}, seed ${seed}`);
  const reference = await runCrashFederation({ workDir: join(work, "reference"), rounds, ...(strategy && { strategy }) });
  const kills = pickKillPoints(reference.sequence, count, seed);
  say(`reference: ${reference.sequence.length} store writes, ${reference.weights.size} models, ${(reference.elapsedMs / 1000).toFixed(1)} s`);
  say(`kill points (phase, nth write of the phase, delay ms): ${kills.map((k) => `${k.phase} ${k.nth} +${k.delayMs}`).join("; ")}`);
  const crashed: CrashRun = await runCrashFederation({ workDir: join(work, "crashed"), rounds, kills, ...(strategy && { strategy }), timeoutMs: 600_000, log: (l) => say(`  ${l}`) });
  const versions = [...new Set([...reference.weights.keys(), ...crashed.weights.keys()])].sort();
  const differing = versions.filter((v) => !(reference.weights.get(v)?.equals(crashed.weights.get(v) ?? Buffer.alloc(0)) ?? false));
  say("");
  say("| | without kills | with kills |");
  say("|---|---|---|");
  say(`| kills done | 0 | ${crashed.killed.length} of ${kills.length} (${crashed.killed.filter((k) => k.phase === "round").length} in rounds, ${crashed.killed.filter((k) => k.phase === "aggregation").length} in aggregation) |`);
  say(`| store writes | ${reference.sequence.length} | ${crashed.sequence.length} |`);
  say(`| runners that finished with an evaluation | ${reference.evaluations} of 4 | ${crashed.evaluations} of 4 |`);
  say(`| updates refused ROUND_CLOSED (a retried post after its round moved on) | ${reference.roundClosed} | ${crashed.roundClosed} |`);
  say(`| federation phase at the end | ${reference.finalPhase} | ${crashed.finalPhase} |`);
  say(`| seconds | ${(reference.elapsedMs / 1000).toFixed(1)} | ${(crashed.elapsedMs / 1000).toFixed(1)} |`);
  say(`| final model (sha256) | ${digest(reference.weights.get(versions.at(-1) ?? ""))} | ${digest(crashed.weights.get(versions.at(-1) ?? ""))} |`);
  say("");
  say(differing.length === 0 ? `same bytes in all ${versions.length} models` : `models that differ: ${differing.join(", ")}`);
  process.exitCode = differing.length === 0 && crashed.evaluations === 4 ? 0 : 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
