import { Hono } from "hono";
import { EnrolRequest, FederationConfig } from "../../core/schemas/federation.ts";
import { requireAdmin } from "../auth.ts";
import type { AppEnv } from "../env.ts";
import { intParam, jsonBody } from "../http.ts";
import { closeExpiredRounds } from "../use-cases/close-expired-rounds.ts";
import { createFederation } from "../use-cases/create-federation.ts";
import { enrolSite } from "../use-cases/enrol-site.ts";
import { readStatus } from "../use-cases/read-status.ts";
import { revokeSite } from "../use-cases/revoke-site.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { putValidationSet, ValidationSet } from "../use-cases/validation-set.ts";
import { listModels, promoteModel, rollbackModel, showModel } from "../use-cases/registry/models.ts";
import { ChampionRequest, RollbackRequest } from "../../core/registry/index.ts";
import { RunRequest } from "../../core/schemas/consortium.ts";
import { requestRun } from "../use-cases/runs/advance-runs.ts";
import { listRuns } from "../use-cases/runs/list-runs.ts";
import { abandonRun } from "../use-cases/runs/abandon-run.ts";
import { MAX_AUDIT_PAGE, readAuditPage } from "../use-cases/audit/read-audit.ts";

/** Administrator routes: every one needs the admin bearer token. */
export const adminRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    requireAdmin(c.req.header("authorization"), c.get("deps").adminToken);
    c.set("admin", true);
    await next();
  })
  .post("/federation", jsonBody(FederationConfig), async (c) => c.json(await createFederation(c.get("deps"), c.req.valid("json")), 201))
  .post("/sites", jsonBody(EnrolRequest), async (c) => {
    const { name, id } = c.req.valid("json");
    return c.json(await enrolSite(c.get("deps"), name, id), 201);
  })
  .post("/sites/:site/revoke", async (c) => {
    const site = c.req.param("site");
    if (!/^[a-z0-9-]{1,64}$/.test(site)) throw new ConsiliumError("INVALID_PARAM", "site must be a site id", 400);
    return c.json(await revokeSite(c.get("deps"), site));
  })
  .get("/status", async (c) => {
    // Rejections come newest first in pages of MAX_STATUS_REJECTIONS: `?rejectionsSkip=200` is the second page.
    const skip = c.req.query("rejectionsSkip");
    return c.json(await readStatus(c.get("deps"), { rejectionsSkip: skip === undefined ? 0 : intParam(skip, "rejectionsSkip") }));
  })
  .put("/validation", jsonBody(ValidationSet), async (c) => c.json(await putValidationSet(c.get("deps"), c.req.valid("json"))))
  .post("/rounds/close-expired", async (c) => c.json(await closeExpiredRounds(c.get("deps"))))
  .get("/models", async (c) => c.json(await listModels(c.get("deps"))))
  .get("/models/:version", async (c) => c.json(await showModel(c.get("deps"), intParam(c.req.param("version"), "version"))))
  .post("/models/:version/promote", jsonBody(ChampionRequest), async (c) => c.json(await promoteModel(c.get("deps"), intParam(c.req.param("version"), "version"), c.req.valid("json"))))
  .post("/models/rollback", jsonBody(RollbackRequest), async (c) => c.json(await rollbackModel(c.get("deps"), c.req.valid("json"))))
  .get("/runs", async (c) => c.json(await listRuns(c.get("deps"))))
  .post("/runs", jsonBody(RunRequest), async (c) => {
    const outcome = await requestRun(c.get("deps"), c.req.valid("json").reason);
    return c.json(outcome, outcome.started ? 201 : 202);
  })
  .post("/runs/abandon", jsonBody(RunRequest), async (c) => c.json(await abandonRun(c.get("deps"), c.req.valid("json").reason)))
  .get("/audit", async (c) => {
    // `?after=N&limit=M`: records after sequence N, at most M (MAX_AUDIT_PAGE), their stored text exactly, and the signed checkpoints.
    const after = c.req.query("after");
    const limit = c.req.query("limit");
    const page = await readAuditPage(c.get("deps"), { after: after === undefined ? 0 : intParam(after, "after"), limit: limit === undefined ? MAX_AUDIT_PAGE : intParam(limit, "limit") });
    return c.json({ ...page, publicKey: c.get("deps").auditKey?.publicKey ?? null });
  });
