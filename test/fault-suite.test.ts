/**
 * The coordinator under faults on a seeded schedule: store operations that fail before they happen
 * or after (a write that landed but whose process died), requests of several sites interleaved
 * differently, aggregate jobs delivered twice and out of order, a failed job delivered again (as
 * SQS does), and the minute cron ticking in between. Sites act as runners do: a 5xx or a failed
 * connection is sent again; a 409 means the step is done or moot. Every federation must end with
 * the same model bytes as the fault-free run of the same seed, with no accepted update lost and no
 * round stuck.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../core/codec/index.ts";
import { seededRandom } from "../core/random.ts";
import { keys } from "../functions/keys.ts";
import { closeExpiredRounds } from "../functions/use-cases/close-expired-rounds.ts";
import { ChaosQueue, ChaosStore, deliverJobs, persist, sendStats, type ChaosRates } from "./support/chaos.ts";
import { ADMIN_TOKEN, BODY_SIZE, delta, Harness, ManualClock, recordingLogger, type TestDeps, type TestSite } from "./support/coordinator.ts";

const ROUNDS = 4;
/** Fault schedules per agreement. */
const SEEDS = 15;

/** A whole federation of three sites, each sending a fixed update every round; answers every published model's sha256. */
async function federation(seed: number, rates: ChaosRates | null, agreement: Agreement): Promise<{ models: string[]; injected: number; duplicated: number }> {
  const clock = new ManualClock();
  const store = new ChaosStore(seed, rates ?? { before: 0, after: 0 }, { clock });
  const queue = new ChaosQueue(seed, rates ? 0.3 : 0);
  const deps: TestDeps = { store, queue, clock, logger: recordingLogger(), adminToken: ADMIN_TOKEN };
  const h = new Harness(deps);
  const sites = await h.enrolSites({ rounds: ROUNDS, ...agreement });
  store.armed = rates !== null;
  const cron = () => persist(async () => (await closeExpiredRounds(deps), { status: 200, body: null }));
  // Statistics, with the sites' requests interleaved.
  await Promise.all(sites.map((site) => sendStats(h, site)));
  // A runner killed between its upload and its manifest starts again: it uploads again and posts.
  const killed = seededRandom(seed ^ 0xdead);
  for (let round = 1; round <= ROUNDS; round++) {
    await cron();
    await Promise.all(sites.map(async (site, i) => {
      if (rates && killed() < 0.25) await persist(async () => ({ status: 200, body: await h.upload(site, round, values(agreement, i), site.table.rows.length) }));
      await sendUpdate(h, site, round, i, values(agreement, i));
    }));
    await cron();
    await deliverJobs(deps, queue);
  }
  store.armed = false;
  const state = await h.status();
  expect({ seed, phase: state.state.phase, round: state.state.round }).toEqual({ seed, phase: "evaluating", round: expect.any(Number) });
  // No accepted update lost: every round aggregated every site.
  const ids = sites.map((x) => x.siteId).sort();
  for (let r = 1; r <= ROUNDS; r++) expect({ seed, round: r, included: [...((await h.round(r))?.included ?? [])].sort() }).toEqual({ seed, round: r, included: ids });
  const models: string[] = [];
  for (let v = 0; v <= ROUNDS; v++) models.push(sha256Hex((await h.deps.store.get(keys.modelWeights(v))) ?? new Uint8Array()));
  return { models, injected: store.injected.before + store.injected.after, duplicated: queue.duplicated };
}

/** A site's training step of `round`: ask for the task, upload, post the manifest, each as a runner would. */
async function sendUpdate(h: Harness, site: TestSite, round: number, i: number, update: Float32Array): Promise<void> {
  const task = await persist(async () => {
    const res = await h.request("GET", "/v1/task", { token: site.token });
    return res;
  });
  const body = task.body as { kind: string; round?: number };
  if (body.kind !== "train" || body.round !== round) throw new Error(`site ${site.siteId} expected round ${round}, got ${JSON.stringify(body).slice(0, 200)}`);
  const manifest = await persist(async () => ({ status: 200, body: await h.upload(site, round, update, site.table.rows.length) }));
  const posted = await persist(() => h.postUpdate(site, round, manifest.body));
  // 202 accepted; a 409 for a retried post whose first copy landed is the same outcome.
  expect([202, 409]).toContain(posted.status);
}

/** The aggregation paths the faults meet: the streamed mean, an int8 update and down-link with a server optimizer, decoded updates under a robust aggregator with scoring, control variates. */
type Agreement = { strategy: string; codec: string; scoring?: { enabled: boolean } };

/** Site `i`'s update: its body delta, and under SCAFFOLD its control delta after it. */
const values = (agreement: Agreement, i: number) => delta(i + 1, agreement.strategy === "scaffold" ? 2 * BODY_SIZE : BODY_SIZE);
const agreements: Record<string, Agreement> = {
  "fedavg, float32": { strategy: "fedavg", codec: "float32" },
  "fedadam, int8 both ways": { strategy: "fedadam", codec: "int8" },
  "median with scoring": { strategy: "median", codec: "float32", scoring: { enabled: true } },
  scaffold: { strategy: "scaffold", codec: "float32" },
};

describe("the coordinator under seeded store and queue faults", () => {
  for (const [name, agreement] of Object.entries(agreements)) {
    it(`${name}: ends every federation with the fault-free run's model bytes`, async () => {
      const clean = await federation(1, null, agreement);
      expect(new Set(clean.models).size).toBe(ROUNDS + 1);
      let injected = 0;
      let duplicated = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const faulty = await federation(seed, { before: 0.06, after: 0.06 }, agreement);
        expect({ seed, models: faulty.models }).toEqual({ seed, models: clean.models });
        injected += faulty.injected;
        duplicated += faulty.duplicated;
      }
      // The faults did happen.
      expect(injected).toBeGreaterThan(10 * SEEDS);
      expect(duplicated).toBeGreaterThan(SEEDS / 2);
    }, 120_000);
  }
});
