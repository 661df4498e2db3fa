/**
 * @module
 * The coordinator as a Hono app. `createApp(deps)` is all a runtime needs: the Lambda handler, the
 * one-machine server and the tests call it with their own store, queue and clock.
 */
import { Hono, type Context, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ConsiliumError } from "../core/errors.ts";
import type { CoordinatorDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { apiRoutes } from "./routes/index.ts";
import { dashboardRoutes } from "./dashboard/routes.tsx";
import { auditRequest } from "./use-cases/audit/audit-requests.ts";
import { AUDIT_NOT_WRITTEN } from "./use-cases/audit/append-audit.ts";
import { countFailure } from "./use-cases/count-failure.ts";
import { activeRunDeps } from "./use-cases/runs/run-scope.ts";
import { clip, recordRejection } from "./use-cases/record-rejection.ts";

/**
 * @example
 * const app = createApp({ store, queue, clock: systemClock, logger: silentLogger, adminToken });
 * const res = await app.request("/v1/status", { headers: { authorization: `Bearer ${adminToken}` } });
 */
export function createApp(deps: CoordinatorDeps) {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  // Every API request acts on the run the sites work on; the consortium's keys stay shared (use-cases/runs/run-scope.ts).
  app.use("/v1/*", async (c, next) => {
    c.set("deps", await activeRunDeps(deps));
    await next();
  });
  // The audit trail: one record per authenticated request that changes state or reaches model or site data, after its answer.
  const audit = async (c: Context<AppEnv>, next: Next) => {
    await next();
    try {
      await auditRequest(c, c.error);
    } catch (err) {
      // The action stands (its answer may carry what cannot be sent twice, an enrolment's token); the gap is logged and counted.
      deps.logger.error(AUDIT_NOT_WRITTEN, { method: c.req.method, path: clip(c.req.path, 128), err: err instanceof Error ? err.message : String(err) });
      await countFailure(deps, "AUDIT_WRITE_FAILED");
    }
  };
  app.use("/v1/*", audit);
  app.use("/dashboard/*", audit);
  app.use(
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 1024 * 1024,
      onError: () => {
        throw new ConsiliumError("BODY_TOO_LARGE", `request body exceeds ${deps.maxBodyBytes ?? 1024 * 1024} bytes`, 413);
      },
    }),
  );
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/", apiRoutes);
  app.route("/dashboard", dashboardRoutes);
  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError(async (err, c) => {
    if (!(err instanceof ConsiliumError) || err.status >= 500) {
      deps.logger.error("request failed", { path: clip(c.req.path, 128), err: err instanceof Error ? err.stack : String(err) });
      const code = err instanceof ConsiliumError ? err.code : "INTERNAL";
      return c.json({ error: { code, message: "internal error" } }, 500);
    }
    const site = c.get("site");
    if (!site && !c.get("admin")) {
      // Before anyone is authenticated a refusal is only counted: an outsider cannot fill the store.
      await countFailure(deps, err.code);
      deps.logger.warn("refused unauthenticated request", { code: err.code, method: c.req.method, path: clip(c.req.path, 128) });
    } else {
      // Errors from middleware are thrown before the route binds its params.
      const raw = c.req.param("round") ?? /^\/v1\/rounds\/([^/]+)\//.exec(c.req.path)?.[1];
      await recordRejection(deps, {
        siteId: site?.id ?? null,
        round: raw !== undefined && /^\d{1,16}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : null,
        code: err.code,
        message: `${c.req.method} ${clip(c.req.path, 200)}: ${err.message}`,
      });
    }
    return c.json({ error: { code: err.code, message: err.message } }, err.status as 400);
  });
  return app;
}

export type CoordinatorApp = ReturnType<typeof createApp>;
