/**
 * Secure rounds under faults on a seeded schedule: every store operation of the coordinator may
 * fail before it happens or after (a process killed right after a write), during each of the four
 * phases and the unmasking aggregate job, whose deliveries are duplicated, reordered and repeated
 * after a failure. Sites act as runners do: a message whose answer was lost is posted again as it
 * was. Every round must publish the sites' weighted mean (to the quantisation's resolution) or be
 * skipped with its reason — never stuck, never a wrong sum. A site whose step is refused (409) sits
 * the rest of the round out, as a runner does.
 */
import { describe, expect, it } from "vitest";
import { toHex } from "../core/secagg/hex.ts";
import { advertiseKeys, generateIdentity, maskUpdate, revealShares, secureCodes, shareKeys, type Identity, type SiteState } from "../core/secagg/index.ts";
import { RoundRecord } from "../core/schemas/round.ts";
import { Task } from "../core/schemas/task.ts";
import { keys } from "../functions/keys.ts";
import { readJson } from "../functions/repo.ts";
import { closeExpiredRounds } from "../functions/use-cases/close-expired-rounds.ts";
import { loadModel } from "../functions/use-cases/models.ts";
import { ChaosQueue, ChaosStore, deliverJobs, persist, sendStats } from "./support/chaos.ts";
import { ADMIN_TOKEN, BODY_SIZE, delta, Harness, ManualClock, recordingLogger, siteTables, type TestDeps, type TestSite } from "./support/coordinator.ts";

const ROUNDS = 2;

interface Player {
  readonly site: TestSite;
  readonly identity: Identity;
  readonly update: Float32Array;
  state?: SiteState;
  /** The message of the phase in hand, kept so that a post whose answer was lost goes again unchanged. */
  pending?: { readonly key: string; readonly body: unknown };
  /** Rounds this site sits out after a refused step, as a runner does. */
  readonly sitOut: Set<number>;
}

/** One poll and what it asks, as a runner does it; answers the task's kind. */
async function step(h: Harness, p: Player): Promise<Task["kind"]> {
  const polled = await persist(() => h.request("GET", "/v1/task", { token: p.site.token }));
  const task = Task.parse(polled.body);
  const round = "round" in task ? task.round : 0;
  if (p.sitOut.has(round) && task.kind !== "evaluate" && task.kind !== "done") return "wait";
  const post = async (key: string, make: () => unknown) => {
    if (p.pending?.key !== key) p.pending = { key, body: make() };
    const body = p.pending.body;
    const res = await persist(() => h.request("POST", `/v1/rounds/${round}/secure`, { token: p.site.token, json: body }));
    // 202 taken; a 409 says the round went on without this message: the site sits the rest of it out.
    expect([202, 409]).toContain(res.status);
    if (res.status === 409) p.sitOut.add(round);
  };
  if (task.kind === "secure-advertise") {
    await post(`${task.round}/advertise`, () => {
      const { state, message } = advertiseKeys(task.config, task.site, p.identity.privateKey);
      p.state = state;
      return message;
    });
  } else if (task.kind === "secure-share") {
    await post(`${task.round}/share`, () => {
      const { state, message } = shareKeys(p.state!, task.adverts, new Map(task.identities.map((i) => [i.site, Buffer.from(i.publicKey, "hex")])));
      p.state = state;
      return message;
    });
  } else if (task.kind === "train" && task.secure) {
    const secure = task.secure;
    if (p.pending?.key !== `${task.round}/mask`) {
      const codes = secureCodes(p.update, { spec: secure.config.quantisation, clip: 10, scale: secure.scale });
      const { state, bytes, manifest } = maskUpdate(p.state!, secure.shares, codes, p.identity.privateKey);
      p.state = state;
      // The upload itself goes straight to the store through the site's URL, past the coordinator's faults.
      await (h.root.store as ChaosStore).siteWrite(keys.runPrefix(1) + keys.maskedBin(task.round, p.site.siteId), bytes.slice());
      p.pending = { key: `${task.round}/mask`, body: { kind: "masked-input", manifest } };
    }
    await post(`${task.round}/mask`, () => p.pending!.body);
  } else if (task.kind === "secure-unmask") {
    await post(`${task.round}/unmask`, () => {
      const { state, message } = revealShares(p.state!, task.request, p.identity.privateKey);
      p.state = state;
      return message;
    });
  }
  return task.kind;
}

async function secureFederation(seed: number, faulty: boolean) {
  const clock = new ManualClock();
  const store = new ChaosStore(seed, faulty ? { before: 0.05, after: 0.05 } : { before: 0, after: 0 }, { clock });
  const queue = new ChaosQueue(seed, faulty ? 0.3 : 0);
  const deps: TestDeps = { store, queue, clock, logger: recordingLogger(), adminToken: ADMIN_TOKEN };
  const h = new Harness(deps);
  const sites = await h.enrolSites({ rounds: ROUNDS, expectedSites: 4, roundDeadlineSeconds: 600, secureAggregation: { phaseSeconds: 30, clip: 10 } });
  sites.push(await h.enrol("Fourth", siteTables[0]!));
  const players: Player[] = sites.map((site, i) => ({ site, identity: generateIdentity(), update: delta(i + 1), sitOut: new Set<number>() }));
  store.armed = faulty;
  for (const p of players) {
    await persist(() => h.request("POST", "/v1/identity", { token: p.site.token, json: { publicKey: toHex(p.identity.publicKey) } }));
    await sendStats(h, p.site);
  }
  let idle = 0;
  for (let polls = 0; polls < 400; polls++) {
    const kinds = await Promise.all(players.map((p) => step(h, p)));
    await deliverJobs(deps, queue);
    if (kinds.every((k) => k === "evaluate" || k === "done")) break;
    // Everyone waits (a site sat out): time passes to the phase's deadline, and the minute cron closes it.
    idle = kinds.every((k) => k === "wait") ? idle + 1 : 0;
    if (idle >= 3) {
      clock.advance(31_000);
      await persist(async () => (await closeExpiredRounds(deps), { status: 200 }));
      await deliverJobs(deps, queue);
      idle = 0;
    }
  }
  store.armed = false;
  const rounds = [];
  for (let r = 1; r <= ROUNDS; r++) rounds.push(await readJson(h.deps.store, keys.round(r), RoundRecord));
  return { h, players, rounds, injected: store.injected.before + store.injected.after };
}

/** The sample-weighted mean of the players' updates. */
function weightedMean(players: readonly Player[]): Float64Array {
  const total = players.reduce((n, p) => n + p.site.table.rows.length, 0);
  const out = new Float64Array(BODY_SIZE);
  for (const p of players) p.update.forEach((v, i) => (out[i] = out[i]! + (v * p.site.table.rows.length) / total));
  return out;
}

describe("secure rounds under seeded store and queue faults", () => {
  it("publish the sites' weighted mean every round, or skip it with the reason", async () => {
    let injected = 0;
    let closed = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const run = await secureFederation(seed, true);
      injected += run.injected;
      expect({ seed, statuses: run.rounds.map((r) => r?.status) }).toEqual({ seed, statuses: run.rounds.map((r) => (r?.status === "skipped" ? "skipped" : "closed")) });
      for (const record of run.rounds) {
        if (record!.status === "skipped") {
          expect(record!.reason).toMatch(/secure aggregation/);
          continue;
        }
        closed++;
        const masked = record!.included!;
        const [before, after] = [await loadModel(run.h.deps, record!.baseVersion), await loadModel(run.h.deps, record!.resultVersion!)];
        const mean = weightedMean(run.players.filter((p) => masked.includes(p.site.siteId)));
        for (let i = 0; i < BODY_SIZE; i++) expect(after[i]! - before[i]!).toBeCloseTo(mean[i]!, 5);
      }
    }
    expect(injected).toBeGreaterThan(100);
    // Faults must not have made every round fail: most rounds sum every site.
    expect(closed).toBeGreaterThan(8);
  }, 120_000);
});
