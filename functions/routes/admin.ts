import { Hono } from "hono";
import { EnrolRequest, FederationConfig, RotateRequest } from "../../core/schemas/federation.ts";
import type { MiddlewareHandler } from "hono";
import { OperatorRequest, roleAllows, type OperatorRole } from "../../core/schemas/operators.ts";
import { authenticateOperator } from "../auth.ts";
import { addOperator, listOperators, revokeOperator } from "../use-cases/operators.ts";
import type { AppEnv } from "../env.ts";
import { boolParam, intParam, jsonBody } from "../http.ts";
import { closeExpiredRounds } from "../use-cases/close-expired-rounds.ts";
import { createFederation } from "../use-cases/create-federation.ts";
import { enrolSite } from "../use-cases/enrol-site.ts";
import { readStatus } from "../use-cases/read-status.ts";
import { revokeSite, rotateSite } from "../use-cases/revoke-site.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { MAX_STATUS_PER_SITE } from "../../core/schemas/status.ts";
import { putValidationSet, ValidationSet } from "../use-cases/validation-set.ts";
import { listModels, promoteModel, rollbackModel, showModel } from "../use-cases/registry/models.ts";
import { ChampionRequest, RollbackRequest } from "../../core/registry/index.ts";
import { RunRequest } from "../../core/schemas/consortium.ts";
import { requestRun } from "../use-cases/runs/advance-runs.ts";
import { listRuns } from "../use-cases/runs/list-runs.ts";
import { abandonRun } from "../use-cases/runs/abandon-run.ts";
import { MAX_AUDIT_PAGE, readAuditPage } from "../use-cases/audit/read-audit.ts";

/** What a route needs: at least this role (owner ⊃ operator ⊃ viewer); a refusal names the caller's role and the one needed. */
const need = (role: OperatorRole, what: string): MiddlewareHandler<AppEnv> => async (c, next) => {
  const who = c.get("operator")!;
  if (!roleAllows(who.role, role)) throw new ConsiliumError("ROLE_FORBIDDEN", `operator ${who.name} is a ${who.role}: ${what} needs the ${role} role`, 403);
  await next();
};

/**
 * Administrator routes: every one needs an operator's credential (or the bootstrap admin token,
 * the owner `admin`) whose role allows it: viewers read, operators run the consortium, owners also
 * create it and manage operators.
 */
export const adminRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    const deps = c.get("deps");
    c.set("operator", await authenticateOperator(c.req.header("authorization"), deps.adminToken, deps.store));
    c.set("admin", true);
    await next();
  })
  .post("/federation", need("owner", "creating the consortium"), jsonBody(FederationConfig), async (c) => c.json(await createFederation(c.get("deps"), c.req.valid("json")), 201))
  .post("/sites", need("operator", "enrolling a site"), jsonBody(EnrolRequest), async (c) => {
    const { name, id, expiresInDays } = c.req.valid("json");
    return c.json(await enrolSite(c.get("deps"), name, id, expiresInDays), 201);
  })
  .post("/sites/:site/rotate", need("owner", "rotating a site's credential"), jsonBody(RotateRequest), async (c) => {
    const site = c.req.param("site");
    if (!/^[a-z0-9-]{1,64}$/.test(site)) throw new ConsiliumError("INVALID_PARAM", "site must be a site id", 400);
    return c.json(await rotateSite(c.get("deps"), site, c.get("operator")!.name, c.req.valid("json").expiresInDays), 201);
  })
  .post("/sites/:site/revoke", need("operator", "revoking a site"), async (c) => {
    const site = c.req.param("site");
    if (!/^[a-z0-9-]{1,64}$/.test(site)) throw new ConsiliumError("INVALID_PARAM", "site must be a site id", 400);
    return c.json(await revokeSite(c.get("deps"), site));
  })
  .get("/status", need("viewer", "reading the status"), async (c) => {
    // Rejections come newest first in pages of MAX_STATUS_REJECTIONS: `?rejectionsSkip=200` is the second page.
    const skip = c.req.query("rejectionsSkip");
    // `?perSite=true` adds each round's updates site by site (the per-site learning curves), while they fit one answer.
    const perSite = boolParam(c.req.query("perSite"), "perSite") ? MAX_STATUS_PER_SITE : undefined;
    return c.json(await readStatus(c.get("deps"), { rejectionsSkip: skip === undefined ? 0 : intParam(skip, "rejectionsSkip"), ...(perSite && { perSite: true, perSiteLimit: perSite }) }));
  })
  .put("/validation", need("operator", "replacing the validation set"), jsonBody(ValidationSet), async (c) => c.json(await putValidationSet(c.get("deps"), c.req.valid("json"))))
  .post("/rounds/close-expired", need("operator", "closing expired rounds"), async (c) => c.json(await closeExpiredRounds(c.get("deps"))))
  .get("/models", need("viewer", "reading the registry"), async (c) => c.json(await listModels(c.get("deps"))))
  .get("/models/:version", need("viewer", "reading a model"), async (c) => c.json(await showModel(c.get("deps"), intParam(c.req.param("version"), "version"))))
  .post("/models/:version/promote", need("operator", "promoting a model"), jsonBody(ChampionRequest), async (c) => c.json(await promoteModel(c.get("deps"), intParam(c.req.param("version"), "version"), c.req.valid("json"))))
  .post("/models/rollback", need("operator", "rolling back the champion"), jsonBody(RollbackRequest), async (c) => c.json(await rollbackModel(c.get("deps"), c.req.valid("json"))))
  .get("/runs", need("viewer", "reading the runs"), async (c) => c.json(await listRuns(c.get("deps"))))
  .post("/runs", need("operator", "starting a run"), jsonBody(RunRequest), async (c) => {
    const outcome = await requestRun(c.get("deps"), c.req.valid("json").reason);
    return c.json(outcome, outcome.started ? 201 : 202);
  })
  .post("/runs/abandon", need("operator", "abandoning a run"), jsonBody(RunRequest), async (c) => c.json(await abandonRun(c.get("deps"), c.req.valid("json").reason)))
  .get("/audit", need("viewer", "reading the audit trail"), async (c) => {
    // `?after=N&limit=M`: records after sequence N, at most M (MAX_AUDIT_PAGE), their stored text exactly, and the signed checkpoints.
    const after = c.req.query("after");
    const limit = c.req.query("limit");
    const page = await readAuditPage(c.get("deps"), { after: after === undefined ? 0 : intParam(after, "after"), limit: limit === undefined ? MAX_AUDIT_PAGE : intParam(limit, "limit") });
    return c.json({ ...page, publicKey: c.get("deps").auditKey?.publicKey ?? null });
  })
  .post("/operators", need("owner", "adding an operator"), jsonBody(OperatorRequest), async (c) => c.json(await addOperator(c.get("deps"), c.req.valid("json"), c.get("operator")!.name), 201))
  .get("/operators", need("owner", "listing the operators"), async (c) => c.json({ operators: await listOperators(c.get("deps")) }))
  .post("/operators/:name/revoke", need("owner", "revoking an operator"), async (c) => {
    const name = c.req.param("name");
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new ConsiliumError("INVALID_PARAM", "name must be an operator's name", 400);
    return c.json(await revokeOperator(c.get("deps"), name, c.get("operator")!.name));
  });
