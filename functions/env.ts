import type { OperatorRole } from "../core/schemas/operators.ts";
import type { SiteRecord } from "../core/schemas/federation.ts";
import type { CoordinatorDeps } from "./deps.ts";

/** Hono context variables set by the auth middlewares. */
export interface AppEnv {
  Variables: { deps: CoordinatorDeps; site?: SiteRecord; credential?: { readonly generation: number; readonly expiresAt: number | null }; admin?: true; operator?: { readonly name: string; readonly role: OperatorRole } };
}
