import { mkdtemp, rm } from "node:fs/promises";
import { keys } from "../functions/keys.ts";
import { runStore } from "../functions/adapters/run-store.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { specOf } from "../core/model/model-spec.ts";
import { buildRunReport } from "../core/report/build-run-report.ts";
import type { EnrolResponse } from "../core/schemas/federation.ts";
import type { RunReport } from "../core/schemas/report.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { runRegionRelay } from "../functions/region-relay.ts";
import { trainCentralized } from "../gpu-runner/training/centralized.ts";
import { SIMULATION_RETRY } from "./simulation-retry.ts";
import { centralizedBySite, enrolledSites, federationOf, runSites, siteIdOf, startDeployment, type Deployment, type EnrolledSite, type Region, type SimulationHooks, type SimulationPlan } from "./simulate.ts";

/** A region's coordinator in this process, with its relay to the global coordinator running beside it. */
async function startRegion(plan: SimulationPlan, hooks: SimulationHooks, region: string, globalUrl: string, token: string, controller: AbortController): Promise<Deployment> {
  const regional = await startDeployment(plan, hooks);
  const relayDone = runRegionRelay({ region, deps: regional.deps, global: new CoordinatorClient(globalUrl, token, fetch, { policy: SIMULATION_RETRY, signal: controller.signal }), logger: hooks.logger, signal: controller.signal, pollMs: 25 });
  // Awaited with the sites; a failure before then must not surface as unhandled.
  relayDone.catch(() => undefined);
  return { ...regional, relayDone };
}

/**
 * Regional tiers on one machine: a global coordinator and, per region, its own coordinator on its
 * own embedded store and queue, with a relay that is the region's one site at the global
 * coordinator. Sites talk only to their region's coordinator. The report is the global
 * coordinator's (its sites are the regions); `hooks.onStack` sees the global store, and
 * `hooks.onRegionStack` each region's.
 */
export async function simulateRegions(plan: SimulationPlan, regions: readonly Region[], seed: number, hooks: SimulationHooks): Promise<RunReport> {
  const started = performance.now();
  const deployments: { stop(): Promise<void> }[] = [];
  const stateRoot = plan.stateDir ?? (await mkdtemp(join(tmpdir(), "consilium-sites-")));
  const controller = new AbortController();
  try {
    const global: Deployment = hooks.deploy ? await hooks.deploy() : await startDeployment(plan, hooks);
    deployments.push(global);
    await global.admin.createFederation(federationOf(plan, seed, regions.length));
    const relays: Promise<void>[] = [];
    const stores: [string, ObjectStore][] = [];
    const sites: EnrolledSite[] = [];
    const urls = new Map<string, string>();
    for (const region of regions) {
      const relay = await global.admin.enrol(`region ${region.name}`, `region-${region.name}`);
      const regional: Deployment = hooks.deploy
        ? await hooks.deploy({ region: region.name, url: global.url, token: relay.token })
        : await startRegion(plan, hooks, region.name, global.url, relay.token, controller);
      deployments.push(regional);
      await regional.admin.createFederation(federationOf(plan, seed, region.sites.length, { region: region.name }));
      const enrolled: EnrolResponse[] = [];
      for (const i of region.sites) enrolled.push(await regional.admin.enrol(plan.sites[i]!.name, siteIdOf(i)));
      for (const s of enrolledSites(plan, seed, enrolled, stateRoot, region.sites)) {
        sites.push(s);
        urls.set(s.siteId, regional.url);
      }
      if (!regional.relayDone) throw new Error(`region ${region.name}'s deployment runs no relay`);
      relays.push(
        regional.relayDone.catch((err: unknown) => {
          controller.abort();
          throw err;
        }),
      );
      stores.push([region.name, regional.stack.store]);
    }
    await Promise.all([...relays, runSites(plan, sites, (s) => urls.get(s.siteId) ?? "", hooks, controller)]);
    const status = await global.admin.status({ perSite: true });
    await hooks.onStack?.(runStore(global.stack.store, keys.runPrefix(1)));
    for (const [name, store] of stores) await hooks.onRegionStack?.(name, runStore(store, keys.runPrefix(1)));
    // The global coordinator's sites are the regions: their centralized baseline pools their sites'.
    const counts = trainCentralized({ sites: plan.sites, features: plan.features, model: specOf(plan.model), training: plan.training, rounds: plan.rounds, seed });
    const centralized = centralizedBySite(regions.map((r) => [`region-${r.name}`, r.sites.flatMap((i) => (counts[i] ? [counts[i]] : []))]), plan.features);
    const report = buildRunReport({ seed, wallSeconds: (performance.now() - started) / 1000, status, malicious: [], ...centralized });
    // The global coordinator sums regional means in the clear; each region's coordinator saw only masked inputs.
    return plan.secureAggregation ? { ...report, aggregation: "secure" } : report;
  } finally {
    controller.abort();
    for (const d of deployments) await d.stop();
    if (!plan.stateDir) await rm(stateRoot, { recursive: true, force: true });
  }
}
