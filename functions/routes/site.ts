import { Hono } from "hono";
import { SiteDecline } from "../../core/schemas/privacy.ts";
import { ModelManifest, UpdateManifest } from "../../core/schemas/round.ts";
import { IdentityRegistration, SecurePost } from "../../core/schemas/secure-aggregation.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { SiteEvaluation } from "../../core/schemas/task.ts";
import { authenticateSiteCredential } from "../auth.ts";
import type { CredentialCheck } from "../../core/schemas/federation.ts";
import type { AppEnv } from "../env.ts";
import { intParam, intParamCheck, jsonBody } from "../http.ts";
import { keys } from "../keys.ts";
import { mustReadJson } from "../repo.ts";
import { declineRound } from "../use-cases/decline-round.ts";
import { modelRef } from "../use-cases/models.ts";
import { nextTask } from "../use-cases/next-task.ts";
import { currentChampionModel } from "../use-cases/registry/champion-model.ts";
import { submitCheckIn } from "../use-cases/runs/check-in.ts";
import { CheckIn } from "../../core/schemas/consortium.ts";
import { registerIdentity, submitSecure } from "../use-cases/secure/index.ts";
import { submitEvaluation } from "../use-cases/submit-evaluation.ts";
import { submitStats } from "../use-cases/submit-stats.ts";
import { submitUpdate } from "../use-cases/submit-update.ts";

/** A round in the path is checked before the body is read, so a bad path is refused as such. */
const roundParam = intParamCheck("round");

/**
 * Site routes: the caller is the site its credential names, and acts only for itself. Each route
 * is written once, here; `client/` derives its calls from these types (Hono's `hc`).
 */
export const siteRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    const { site, generation, expiresAt } = await authenticateSiteCredential(c.req.header("authorization"), c.get("deps").store, c.get("deps").clock.now());
    c.set("site", site);
    c.set("credential", { generation, expiresAt });
    await next();
  })
  // Which credential this is and when it expires, with the coordinator's clock: what `consilium doctor` checks before a site joins. Changes nothing.
  .get("/credential", (c) => {
    const { id, name } = c.get("site")!;
    return c.json({ siteId: id, name, ...c.get("credential")!, now: c.get("deps").clock.now() } satisfies CredentialCheck);
  })
  .get("/task", async (c) => c.json(await nextTask(c.get("deps"), c.get("site")!.id)))
  .post("/stats", jsonBody(SiteStats), async (c) => c.json(await submitStats(c.get("deps"), c.get("site")!.id, c.req.valid("json")), 202))
  .post("/rounds/:round/updates", roundParam, jsonBody(UpdateManifest), async (c) => {
    const round = intParam(c.req.param("round"), "round");
    return c.json(await submitUpdate(c.get("deps"), c.get("site")!.id, round, c.req.valid("json")), 202);
  })
  .post("/rounds/:round/declines", roundParam, jsonBody(SiteDecline), async (c) => {
    const round = intParam(c.req.param("round"), "round");
    return c.json(await declineRound(c.get("deps"), c.get("site")!.id, round, c.req.valid("json")), 202);
  })
  .post("/identity", jsonBody(IdentityRegistration), async (c) => c.json(await registerIdentity(c.get("deps"), c.get("site")!.id, c.req.valid("json")), 201))
  .post("/rounds/:round/secure", roundParam, jsonBody(SecurePost), async (c) => {
    const round = intParam(c.req.param("round"), "round");
    return c.json(await submitSecure(c.get("deps"), c.get("site")!.id, round, c.req.valid("json")), 202);
  })
  .post("/evaluations", jsonBody(SiteEvaluation), async (c) => {
    await submitEvaluation(c.get("deps"), c.get("site")!.id, c.req.valid("json"));
    return c.json({ accepted: true as const }, 202);
  })
  .get("/champion", async (c) => c.json({ champion: await currentChampionModel(c.get("deps")) }))
  .post("/checkins", jsonBody(CheckIn), async (c) => c.json(await submitCheckIn(c.get("deps"), c.get("site")!.id, c.req.valid("json")), 201))
  .get("/models/:version", async (c) => {
    const deps = c.get("deps");
    const version = intParam(c.req.param("version"), "version");
    const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
    return c.json({ manifest, ...(await modelRef(deps, version)) });
  });
