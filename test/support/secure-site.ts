/**
 * @module
 * An honest site of a secure-aggregation federation, in-process: its long-term identity, its
 * round state, and the one request each task asks of it (the protocol of `core/secagg`, as the
 * runner's secure steps send it). The fuzz suite starts its valid bodies from these requests and
 * runs its honest secure rounds with them.
 */
import { advertiseKeys, generateIdentity, maskUpdate, revealShares, secureCodes, shareKeys, type SiteState } from "../../core/secagg/index.ts";
import { fromHex, toHex } from "../../core/secagg/hex.ts";
import { FederationState } from "../../core/schemas/federation.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import type { Task } from "../../core/schemas/task.ts";
import { keys } from "../../functions/keys.ts";
import { readJson } from "../../functions/repo.ts";
import { ADMIN_TOKEN, BODY_SIZE, delta, type Harness, type TestSite } from "./coordinator.ts";

export interface SiteRequest {
  readonly path: string;
  readonly body: unknown;
}

export class SecureSite {
  readonly identity = generateIdentity();
  state: SiteState | null = null;

  constructor(readonly site: TestSite) {}

  /** The request `task` asks for (a masked input's bytes put where its presigned URL points), or null when it asks for none. */
  async step(h: Harness, task: Task): Promise<SiteRequest | null> {
    const own = (round: number) => (this.state?.config.round === round ? this.state : null);
    switch (task.kind) {
      case "identity":
        return { path: "/v1/identity", body: { publicKey: toHex(this.identity.publicKey) } };
      case "secure-advertise": {
        const { state, message } = advertiseKeys(task.config, task.site, this.identity.privateKey);
        this.state = state;
        return { path: `/v1/rounds/${task.round}/secure`, body: message };
      }
      case "secure-share": {
        const state = own(task.round);
        if (!state || state.phase !== "advertised") return null;
        const identities = new Map(task.identities.map((i) => [i.site, fromHex(i.publicKey)]));
        const next = shareKeys(state, task.adverts, identities);
        this.state = next.state;
        return { path: `/v1/rounds/${task.round}/secure`, body: next.message };
      }
      case "train": {
        const state = own(task.round);
        if (!task.secure || !state || state.phase !== "shared") return null;
        const { quantisation } = task.secure.config;
        const codes = secureCodes(delta(1, BODY_SIZE), { spec: quantisation, ...(quantisation.clipNorm !== undefined && { clip: quantisation.clipNorm }), scale: task.secure.scale });
        const next = maskUpdate(state, task.secure.shares, codes, this.identity.privateKey);
        this.state = next.state;
        await h.deps.store.put(keys.maskedBin(task.round, this.site.siteId), next.bytes);
        return { path: `/v1/rounds/${task.round}/secure`, body: { kind: "masked-input", manifest: next.manifest, bytesDown: 0 } };
      }
      case "secure-unmask": {
        const state = own(task.round);
        if (!state) return null;
        const next = revealShares(state, task.request, this.identity.privateKey);
        this.state = next.state;
        return { path: `/v1/rounds/${task.round}/secure`, body: next.message };
      }
      default:
        return null;
    }
  }
}

/** Enrols the three hospitals of a secure federation, registers their identities and reports their statistics: round 1 is open. */
export async function startSecureTraining(h: Harness, config: Parameters<Harness["enrolSites"]>[0]): Promise<SecureSite[]> {
  const sites = (await h.enrolSites(config)).map((s) => new SecureSite(s));
  for (const s of sites) {
    const request = (await s.step(h, await h.task(s.site)))!;
    const registered = await h.request("POST", request.path, { token: s.site.token, json: request.body });
    if (registered.status !== 201) throw new Error(`identity of ${s.site.siteId}: ${registered.status} ${JSON.stringify(registered.body)}`);
    const stats = await h.postStats(s.site);
    if (stats.status !== 202) throw new Error(`stats of ${s.site.siteId}: ${stats.status} ${JSON.stringify(stats.body)}`);
  }
  return sites;
}

/**
 * The honest sites follow their tasks, the clock moving a phase on whenever none of them has
 * anything to send, until the federation's round leaves `round`: what that round became (closed
 * or skipped), or an error when it stays where it is.
 */
export async function runSecureRound(h: Harness, sites: readonly SecureSite[], round: number): Promise<RoundRecord> {
  for (let pass = 0; pass < 60; pass++) {
    let sent = false;
    for (const s of sites) {
      const task = await h.task(s.site);
      const request = await s.step(h, task).catch(() => null);
      if (request) sent = (await h.request("POST", request.path, { token: s.site.token, json: request.body })).status < 300 || sent;
    }
    await h.runJobs();
    const state = await readJson(h.deps.store, keys.state, FederationState);
    if (state?.phase !== "training" || state.round > round) return (await readJson(h.deps.store, keys.round(round), RoundRecord))!;
    if (!sent) {
      h.deps.clock.advance(61_000);
      await h.request("POST", "/v1/admin/rounds/close-expired", { token: ADMIN_TOKEN });
      await h.runJobs();
    }
  }
  throw new Error(`secure round ${round} never left ${JSON.stringify(await readJson(h.deps.store, keys.round(round), RoundRecord))}`);
}
