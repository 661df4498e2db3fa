/**
 * @module
 * The coordinator's HTTP API, every route once: administrator routes under `/v1/admin`, site
 * routes under `/v1`. `ConsiliumApi` is the type `client/` derives its calls from.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { adminRoutes } from "./admin.ts";
import { siteRoutes } from "./site.ts";

// Administrator routes first: the site routes' authentication must not meet an admin request.
export const apiRoutes = new Hono<AppEnv>().route("/v1/admin", adminRoutes).route("/v1", siteRoutes);

export type ConsiliumApi = typeof apiRoutes;
