/**
 * The phases of a secure round at the coordinator, through its HTTP app, with sites played by the
 * `core/secagg` site functions and a clock that moves only when the test says: deadlines, quorum,
 * refusals and the aggregate, with the decoded mean checked against the sites' own updates.
 */
import { describe, expect, it } from "vitest";
import { toHex } from "../../../core/secagg/hex.ts";
import { advertiseKeys, generateIdentity, maskUpdate, revealShares, secureCodes, shareKeys, type Identity, type SiteState } from "../../../core/secagg/index.ts";
import { sha256Hex } from "../../../core/codec/index.ts";
import type { Task } from "../../../core/schemas/task.ts";
import { keys } from "../../keys.ts";
import { BODY_SIZE, delta, Harness, siteTables, testDeps, type TestSite } from "../../../test/support/coordinator.ts";
import { MemoryJobQueue } from "../../adapters/memory-job-queue.ts";
import { handleJobMessage } from "../../jobs.ts";
import { closeExpiredRounds } from "../close-expired-rounds.ts";
import { loadModel } from "../models.ts";

/** A site of the test: its identity and its state in the current round. */
interface Player {
  readonly site: TestSite;
  readonly identity: Identity;
  state?: SiteState;
}

const PHASE_SECONDS = 30;
const DEADLINE_SECONDS = 600;

/** Four hospitals (the fourth a copy of the first's table) with identities and statistics: round 1 is open. */
async function start(h: Harness, overrides: Record<string, unknown> = {}): Promise<Player[]> {
  const sites = await h.enrolSites({ expectedSites: 4, roundDeadlineSeconds: DEADLINE_SECONDS, secureAggregation: { phaseSeconds: PHASE_SECONDS, clip: 10 }, ...overrides });
  sites.push(await h.enrol("Fourth", siteTables[0]!));
  const players = sites.map((site) => ({ site, identity: generateIdentity() }));
  for (const p of players) {
    expect((await h.task(p.site)).kind).toBe("identity");
    expect((await h.request("POST", "/v1/identity", { token: p.site.token, json: { publicKey: toHex(p.identity.publicKey) } })).status).toBe(201);
    expect((await h.postStats(p.site)).status).toBe(202);
  }
  return players;
}

async function post(h: Harness, p: Player, round: number, body: unknown) {
  return h.request("POST", `/v1/rounds/${round}/secure`, { token: p.site.token, json: body });
}

/** Polls once and does what the task says, as far as the secure phases go; answers the task's kind. */
async function step(h: Harness, p: Player, update: Float32Array): Promise<Task["kind"]> {
  const task = await h.task(p.site);
  if (task.kind === "secure-advertise") {
    const { state, message } = advertiseKeys(task.config, task.site, p.identity.privateKey);
    p.state = state;
    expect((await post(h, p, task.round, message)).status).toBe(202);
  } else if (task.kind === "secure-share") {
    const { state, message } = shareKeys(p.state!, task.adverts, new Map(task.identities.map((i) => [i.site, Buffer.from(i.publicKey, "hex")])));
    p.state = state;
    expect((await post(h, p, task.round, message)).status).toBe(202);
  } else if (task.kind === "train") {
    const secure = task.secure!;
    const codes = secureCodes(update, { spec: secure.config.quantisation, clip: 10, scale: secure.scale });
    const { state, bytes, manifest } = maskUpdate(p.state!, secure.shares, codes, p.identity.privateKey);
    p.state = state;
    expect(task.upload.kind).toBe("single");
    await h.deps.store.put(keys.maskedBin(task.round, p.site.siteId), bytes.slice());
    expect(manifest.sha256).toBe(sha256Hex(bytes));
    expect((await post(h, p, task.round, { kind: "masked-input", manifest })).status).toBe(202);
  } else if (task.kind === "secure-unmask") {
    const { state, message } = revealShares(p.state!, task.request, p.identity.privateKey);
    p.state = state;
    expect((await post(h, p, task.round, message)).status).toBe(202);
  }
  return task.kind;
}

/** Every player in `who` takes one step, in order. */
async function everyone(h: Harness, who: readonly Player[], updates: Map<Player, Float32Array>): Promise<Task["kind"][]> {
  const kinds: Task["kind"][] = [];
  for (const p of who) kinds.push(await step(h, p, updates.get(p)!));
  return kinds;
}

/** The sample-weighted mean of the sites' updates (none reaches the clip). */
function weightedMean(players: readonly Player[], updates: Map<Player, Float32Array>): Float64Array {
  const total = players.reduce((n, p) => n + p.site.table.rows.length, 0);
  const out = new Float64Array(BODY_SIZE);
  for (const p of players) updates.get(p)!.forEach((v, i) => (out[i] = out[i]! + (v * p.site.table.rows.length) / total));
  return out;
}

describe("a secure round at the coordinator", () => {
  it("walks every site through the four phases and publishes the weighted mean of their updates", async () => {
    // Prepare
    const h = new Harness();
    const players = await start(h);
    const updates = new Map(players.map((p, i) => [p, delta(i + 1)] as const));

    // Execute: advertise, share, mask, unmask, then the aggregate job.
    expect(await everyone(h, players, updates)).toEqual(Array(4).fill("secure-advertise"));
    expect(await everyone(h, players, updates)).toEqual(Array(4).fill("secure-share"));
    expect(await everyone(h, players, updates)).toEqual(Array(4).fill("train"));
    expect((await everyone(h, players, updates)).filter((k) => k === "secure-unmask").length).toBeGreaterThanOrEqual(2);
    expect(await h.runJobs()).toEqual(["aggregated"]);

    // Assert: model 1 = model 0 + the weighted mean, to the quantisation's resolution.
    const [before, after] = [await loadModel(h.deps, 0), await loadModel(h.deps, 1)];
    const mean = weightedMean(players, updates);
    for (let i = 0; i < BODY_SIZE; i++) expect(after[i]! - before[i]!).toBeCloseTo(mean[i]!, 5);
    expect(await h.round(1)).toMatchObject({ status: "closed", secure: { participants: 4, advertised: 4, shared: 4, masked: 4 } });
    const status = await h.status();
    expect(status.secureAggregation).toMatchObject({ phaseSeconds: PHASE_SECONDS });
    expect(status.roundLog[0]).toMatchObject({ updates: 4, bytesUp: 4 * 4 * BODY_SIZE });
  });

  it("closes the advertise phase at its deadline without a silent site, and sums the others", async () => {
    // Prepare
    const h = new Harness();
    const players = await start(h);
    const [silent, ...others] = players as [Player, ...Player[]];
    const updates = new Map(players.map((p, i) => [p, delta(i + 1)] as const));

    // Execute: three advertise; the phase waits for the fourth until its deadline.
    await everyone(h, others, updates);
    expect(await step(h, others[0]!, updates.get(others[0]!)!)).toBe("wait");
    h.deps.clock.advance((PHASE_SECONDS + 1) * 1000);
    await closeExpiredRounds(h.deps);
    expect(await step(h, silent, updates.get(silent)!)).toBe("wait");
    expect(await everyone(h, others, updates)).toEqual(Array(3).fill("secure-share"));
    expect(await everyone(h, others, updates)).toEqual(Array(3).fill("train"));
    await everyone(h, others, updates);
    expect(await h.runJobs()).toEqual(["aggregated"]);

    // Assert
    const [before, after] = [await loadModel(h.deps, 0), await loadModel(h.deps, 1)];
    const mean = weightedMean(others, updates);
    for (let i = 0; i < BODY_SIZE; i++) expect(after[i]! - before[i]!).toBeCloseTo(mean[i]!, 5);
    expect(await h.round(1)).toMatchObject({ status: "closed", secure: { participants: 4, advertised: 3, masked: 3 } });
  });

  it("with a quorum below the fewest inputs the round may sum, waits for that many before closing the masked-input phase", async () => {
    // Prepare: t = 2 of k = 3 neighbours, so the round sums at least 3; the quorum says 2.
    const h = new Harness();
    const players = await start(h, { quorum: 2 });
    const updates = new Map(players.map((p, i) => [p, delta(i + 1)] as const));
    await everyone(h, players, updates);
    await everyone(h, players, updates);

    // Execute: two sites mask; then a third.
    await everyone(h, players.slice(0, 2), updates);
    const afterTwo = await step(h, players[0]!, updates.get(players[0]!)!);
    await step(h, players[2]!, updates.get(players[2]!)!);

    // Assert: still masking after two; closed after three, and the fourth, late, sits the round out.
    expect(afterTwo).toBe("wait");
    expect(await h.deps.store.head(keys.securePhase(1, "masked-input"))).not.toBeNull();
    expect(await step(h, players[3]!, updates.get(players[3]!)!)).toBe("wait");
    await everyone(h, players.slice(0, 3), updates);
    expect(await h.runJobs()).toEqual(["aggregated"]);
    expect(await h.round(1)).toMatchObject({ status: "closed", included: players.slice(0, 3).map((p) => p.site.siteId).sort() });
  });

  it("refuses a masked input after the round's deadline, and at the deadline fails a round left with too few inputs, saying why", async () => {
    // Prepare
    const h = new Harness();
    const players = await start(h);
    const updates = new Map(players.map((p, i) => [p, delta(i + 1)] as const));
    await everyone(h, players, updates);
    await everyone(h, players, updates);
    await everyone(h, players.slice(0, 2), updates);
    const slow = players[2]!;
    const task = await h.task(slow.site);
    if (task.kind !== "train" || !task.secure) throw new Error(task.kind);
    const { bytes, manifest } = maskUpdate(slow.state!, task.secure.shares, secureCodes(delta(3), { spec: task.secure.config.quantisation, clip: 10, scale: task.secure.scale }), slow.identity.privateKey);
    await h.deps.store.put(keys.maskedBin(1, slow.site.siteId), bytes.slice());

    // Execute: the deadline passes with two masked inputs; the third arrives just after it.
    h.deps.clock.advance(DEADLINE_SECONDS * 1000 + 1);
    const late = await post(h, slow, 1, { kind: "masked-input", manifest });
    const action = await closeExpiredRounds(h.deps);

    // Assert
    expect(late).toMatchObject({ status: 409, body: { error: { code: "DEADLINE_PASSED" } } });
    expect(action).toMatchObject({ round: 1, action: "skipped" });
    const round = await h.round(1);
    expect(round).toMatchObject({ status: "skipped", secure: { masked: 2 } });
    expect(round?.reason).toBe("secure aggregation: only 2 of 4 sites sent masked inputs; the round needs 3 to unmask the sum without exposing any site");
    expect((await h.rejections()).map((r) => r.code)).toContain("SECURE_ROUND_FAILED");
    expect((await h.round(2))?.status).toBe("open");
  });

  it("refuses plain updates, a forged signature and a message for another site's index", async () => {
    // Prepare
    const h = new Harness();
    const players = await start(h);
    const [a, b] = players as [Player, Player];
    const task = await h.task(a.site);
    if (task.kind !== "secure-advertise") throw new Error(task.kind);

    // Execute
    const plain = await h.postUpdate(a.site, 1, await h.upload(a.site, 1, delta(1), 3));
    const forged = advertiseKeys(task.config, task.site, b.identity.privateKey).message;
    const wrongKey = await post(h, a, 1, forged);
    const other = advertiseKeys(task.config, task.site === 1 ? 2 : 1, a.identity.privateKey).message;
    const wrongSite = await post(h, a, 1, other);

    // Assert
    expect(plain).toMatchObject({ status: 409, body: { error: { code: "SECURE_AGGREGATION" } } });
    expect(wrongKey).toMatchObject({ status: 422, body: { error: { code: "SECAGG_BAD_SIGNATURE" } } });
    expect(wrongSite).toMatchObject({ status: 422, body: { error: { code: "SECAGG_BAD_MESSAGE" } } });
    expect((await h.rejections()).map((r) => r.code)).toEqual(expect.arrayContaining(["SECAGG_BAD_SIGNATURE", "SECAGG_BAD_MESSAGE"]));
  });

  it("leaves the round closed when its aggregate job runs before the caller that queued it has returned", async () => {
    // Prepare: a queue that runs each job the moment it is sent, as a fast SQS trigger may.
    const deps = testDeps();
    const eager = new MemoryJobQueue();
    eager.send = async (body: string) => void (await handleJobMessage({ ...deps, queue: eager }, body));
    const h = new Harness({ ...deps, queue: eager });
    const players = await start(h);
    const updates = new Map(players.map((p, i) => [p, delta(i + 1)] as const));
    // Execute: the four phases; the last unmasking post closes the phase and the job runs inside it.
    for (let i = 0; i < 4; i++) await everyone(h, players, updates);
    // Assert
    expect(await h.round(1)).toMatchObject({ status: "closed", resultVersion: 1, secure: { participants: 4, masked: 4 } });
    expect((await h.round(2))?.status).toBe("open");
  });
});
