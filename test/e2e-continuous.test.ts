/**
 * A consortium that keeps training, through HTTP and the embedded S3/SQS: three sites run in the
 * long-running mode; run 1 registers version 1 (the champion) and every site installs it; an
 * operator starts run 2, which the sites join and the gate judges against the champion on the
 * same rows; then a promotion and a rollback, each followed by every site's installed model within
 * one pull. Between runs the sites check in, and data the champion was trained on shows no drift. At every install the personal model is kept only when it is at least as good as the
 * global one on the site's held-out rows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { federationOf, siteIdOf, startDeployment, type SimulationPlan } from "../cli/simulate.ts";
import { SIMULATION_RETRY } from "../cli/simulation-retry.ts";
import { silentLogger } from "../core/logger.ts";
import type { RunsView } from "../core/schemas/consortium.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { currentInstalled, loadInstalled } from "../gpu-runner/session/installed-model.ts";
import { runSite, type RunnerEvent } from "../gpu-runner/session/site-runner.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

const plan: SimulationPlan = {
  sites: syntheticSites({ sites: 3, trainRows: 160, testRows: 80, seed: 5 }),
  features: syntheticSpec,
  model: "mlp:4",
  training: { localEpochs: 1, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 2, headL2: 0.01 },
  rounds: 2,
  strategy: "fedavg",
  codec: "float32",
  roundDeadlineSeconds: 600,
};

/** Polls `read` every 50 ms until `done` holds of its value, for at most `ms`. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a consortium that keeps training, with sites that pull the champion", () => {
  let deployment: Awaited<ReturnType<typeof startDeployment>>;
  let stateRoot = "";
  const controller = new AbortController();
  const events: { siteId: string; event: RunnerEvent }[] = [];
  let runners: Promise<unknown>;
  const stateDirs: string[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    deployment = await startDeployment(plan, { logger: silentLogger });
    stateRoot = await mkdtemp(join(tmpdir(), "consilium-follow-"));
    await deployment.admin.createFederation(federationOf(plan, 1, plan.sites.length));
    const enrolled = [];
    for (const [i, site] of plan.sites.entries()) enrolled.push(await deployment.admin.enrol(site.name, siteIdOf(i)));
    runners = Promise.all(
      enrolled.map((e, i) => {
        const stateDir = join(stateRoot, e.siteId);
        stateDirs.push(stateDir);
        return runSite({
          siteId: e.siteId,
          client: new CoordinatorClient(deployment.url, e.token, fetch, { policy: SIMULATION_RETRY, signal: controller.signal }),
          data: plan.sites[i]!,
          stateDir,
          logger: silentLogger,
          signal: controller.signal,
          follow: { pullEveryMs: 100, idleMs: 50, checkInEveryMs: 100 },
          onEvent: (event) => events.push({ siteId: e.siteId, event }),
        });
      }),
    );
  }, 60_000);

  afterAll(async () => {
    controller.abort();
    await runners.catch(() => undefined);
    await deployment.stop();
    await rm(stateRoot, { recursive: true, force: true });
  });

  const installed = () => Promise.all(stateDirs.map(async (d) => (await currentInstalled(d))?.version ?? null));

  it("installs run 1's version at every site, joins run 2 when an operator starts it, and follows a promotion and a rollback within one pull", async () => {
    // Run 1 ends and registers version 1, the champion: every site installs it.
    const first = await until(installed, (v) => v.every((x) => x === 1));
    expect(first).toEqual([1, 1, 1]);

    // An operator asks for run 2; the sites, idle between runs, join it.
    const asked = await deployment.admin.startRun("new admissions since run 1");
    expect(asked.started?.seq).toBe(2);
    const runs = await until(() => deployment.admin.runs(), (v: RunsView) => v.runs[1]?.version !== null && v.runs[1]?.version !== undefined);
    expect(runs.runs.map((r) => [r.seq, r.phase, r.version, r.parent])).toEqual([
      [1, "done", 1, null],
      [2, "done", 2, 1],
    ]);
    expect(runs.runs[1]?.warmStart?.from).toBe(1);
    const v2 = await deployment.admin.model(2);
    // Judged against the champion on the same rows: every site scored both.
    expect(v2.decision?.judged).toBe(true);
    expect(v2.decision?.gate?.sites.length).toBe(3);

    // Version 2 becomes the champion (by the gate or by hand), then the operator rolls back to 1.
    if (!v2.champion) await deployment.admin.promote(2, "accepted after review of its card");
    expect(await until(installed, (v) => v.every((x) => x === 2))).toEqual([2, 2, 2]);
    const mark = events.length;
    const back = await deployment.admin.rollback(1, "version 2 under-calls at one site");
    expect(back).toMatchObject({ version: 1, action: "rollback" });
    expect(await until(installed, (v) => v.every((x) => x === 1))).toEqual([1, 1, 1]);
    // One pull each: every site's first install after the rollback is version 1, and there is no other.
    const after = events.slice(mark).filter((e) => e.event.kind === "installed");
    expect(after.map((e) => [e.siteId, e.event.kind === "installed" && e.event.version]).sort()).toEqual(stateDirs.map((d) => [d.split("/").at(-1), 1]).sort());

    // Between runs the sites checked in; their data is the data the champion was trained on: nothing drifted.
    const checkIns = events.filter((e) => e.event.kind === "checked-in");
    expect(new Set(checkIns.map((e) => e.siteId)).size).toBe(3);
    expect(checkIns.filter((e) => e.event.kind === "checked-in" && e.event.flags > 0)).toEqual([]);

    // Every install kept the personal model only when it was at least as good as the global one on the site's held-out rows.
    const installs = events.filter((e) => e.event.kind === "installed");
    expect(installs.length).toBeGreaterThanOrEqual(9);
    for (const dir of stateDirs) {
      for (const v of [1, 2]) {
        const meta = (await loadInstalled(dir, v))!.meta.installed!;
        const { personal, global } = meta.auroc;
        if (meta.kind === "personal") expect(personal! >= global!).toBe(true);
        else expect(personal === null || global === null || personal < global).toBe(true);
      }
    }
  }, 120_000);
});
