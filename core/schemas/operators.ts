/**
 * @module
 * The consortium's operators: named people with a role, each with a credential
 * `co_<name>_<secret>` of which the coordinator keeps only the hash. `owner` may do everything,
 * `operator` runs the consortium (enrols and revokes sites, starts and abandons runs, promotes and
 * rolls back models), `viewer` only reads (status, registry, runs, audit trail). The bootstrap
 * owner is the consortium's admin token (the SST secret `AdminToken`), named `admin`.
 */
import { z } from "zod";

export const OperatorRole = z.enum(["viewer", "operator", "owner"]);
export type OperatorRole = z.infer<typeof OperatorRole>;

/** Whether `role` may do what `needed` may: owner ⊃ operator ⊃ viewer. */
export const roleAllows = (role: OperatorRole, needed: OperatorRole): boolean => OperatorRole.options.indexOf(role) >= OperatorRole.options.indexOf(needed);

/** An operator's name: what audit records and refusals call them. `admin` is the bootstrap owner's. */
export const OperatorName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "an operator's name is 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit")
  .refine((n) => n !== "admin", "admin is the bootstrap owner's name");

/** `operators/{name}.json`, written once. */
export const OperatorRecord = z.object({
  name: z.string(),
  role: OperatorRole,
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number(),
  createdBy: z.string(),
});
export type OperatorRecord = z.infer<typeof OperatorRecord>;

/** `POST /v1/admin/operators`. */
export const OperatorRequest = z.object({ name: OperatorName, role: OperatorRole });
export type OperatorRequest = z.infer<typeof OperatorRequest>;

/** The answer to adding one: its credential, shown this once. */
export const OperatorCredential = z.object({ name: z.string(), role: OperatorRole, token: z.string() });
export type OperatorCredential = z.infer<typeof OperatorCredential>;

/** An operator as listed: never the hash. */
export const OperatorView = z.object({ name: z.string(), role: OperatorRole, createdAt: z.number(), createdBy: z.string(), revokedAt: z.number().nullable() });
export type OperatorView = z.infer<typeof OperatorView>;

/** The operator a credential names, or null when it is not an operator credential. */
export function operatorOfCredential(token: string): string | null {
  return /^co_([a-z0-9][a-z0-9-]{0,62})_[A-Za-z0-9_-]+$/.exec(token)?.[1] ?? null;
}
