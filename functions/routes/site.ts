import { Hono } from "hono";
import { ModelManifest, UpdateManifest } from "../../core/schemas/round.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { SiteEvaluation } from "../../core/schemas/task.ts";
import { authenticateSite } from "../auth.ts";
import type { AppEnv } from "../env.ts";
import { intParam, parseBody } from "../http.ts";
import { keys } from "../keys.ts";
import { mustReadJson } from "../repo.ts";
import { modelRef } from "../use-cases/models.ts";
import { nextTask } from "../use-cases/next-task.ts";
import { submitEvaluation } from "../use-cases/submit-evaluation.ts";
import { submitStats } from "../use-cases/submit-stats.ts";
import { submitUpdate } from "../use-cases/submit-update.ts";
import { declineRound } from "../use-cases/decline-round.ts";
import { SiteDecline } from "../../core/schemas/privacy.ts";
import { IdentityRegistration, SecurePost } from "../../core/schemas/secure-aggregation.ts";
import { registerIdentity, submitSecure } from "../use-cases/secure-round.ts";

/** Site routes: the caller is the site its credential names, and acts only for itself. */
export const siteRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.set("site", await authenticateSite(c.req.header("authorization"), c.get("deps").store));
    await next();
  })
  .get("/task", async (c) => c.json(await nextTask(c.get("deps"), c.get("site")!.id)))
  .post("/stats", async (c) => c.json(await submitStats(c.get("deps"), c.get("site")!.id, await parseBody(c, SiteStats)), 202))
  .post("/rounds/:round/updates", async (c) => {
    const round = intParam(c.req.param("round"), "round");
    const manifest = await parseBody(c, UpdateManifest);
    return c.json(await submitUpdate(c.get("deps"), c.get("site")!.id, round, manifest), 202);
  })
  .post("/rounds/:round/declines", async (c) => {
    const round = intParam(c.req.param("round"), "round");
    const decline = await parseBody(c, SiteDecline);
    return c.json(await declineRound(c.get("deps"), c.get("site")!.id, round, decline), 202);
  })
  .post("/identity", async (c) => c.json(await registerIdentity(c.get("deps"), c.get("site")!.id, await parseBody(c, IdentityRegistration)), 201))
  .post("/rounds/:round/secure", async (c) => {
    const round = intParam(c.req.param("round"), "round");
    return c.json(await submitSecure(c.get("deps"), c.get("site")!.id, round, await parseBody(c, SecurePost)), 202);
  })
  .post("/evaluations", async (c) => {
    await submitEvaluation(c.get("deps"), c.get("site")!.id, await parseBody(c, SiteEvaluation));
    return c.json({ accepted: true }, 202);
  })
  .get("/models/:version", async (c) => {
    const deps = c.get("deps");
    const version = intParam(c.req.param("version"), "version");
    const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
    return c.json({ manifest, ...(await modelRef(deps, version)) });
  });
