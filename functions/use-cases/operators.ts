/**
 * @module
 * The consortium's named operators (`core/schemas/operators.ts`): an owner adds one with a role and
 * hands over its credential, shown once; lists them; revokes one (at once, on every instance: the
 * marker is read on every request). An operator's record is written once: a name is never reused,
 * so the audit trail's records of it always mean the same person.
 */
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { OperatorRecord, type OperatorCredential, type OperatorRequest, type OperatorView } from "../../core/schemas/operators.ts";
import { newOperatorCredential } from "../auth.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";

const Revoked = z.object({ name: z.string(), revokedAt: z.number(), by: z.string() });

export async function addOperator(deps: CoordinatorDeps, request: OperatorRequest, by: string): Promise<OperatorCredential> {
  const { token, tokenSha256 } = newOperatorCredential(request.name);
  const record: OperatorRecord = { name: request.name, role: request.role, tokenSha256, createdAt: deps.clock.now(), createdBy: by };
  if (!(await writeJson(deps.store, keys.operator(request.name), record, { ifAbsent: true }))) {
    throw new ConsiliumError("OPERATOR_EXISTS", `an operator named ${request.name} exists (names are never reused): choose another name`, 409);
  }
  deps.logger.info("operator added", { name: request.name, role: request.role, by });
  return { name: request.name, role: request.role, token };
}

export async function listOperators(deps: CoordinatorDeps): Promise<OperatorView[]> {
  const out: OperatorView[] = [];
  for (const key of await deps.store.list(keys.operatorsPrefix)) {
    const record = await readJson(deps.store, key, OperatorRecord).catch(() => null);
    if (record === null) {
      deps.logger.warn("an operator record does not parse; left out", { key });
      continue;
    }
    const revoked = await readJson(deps.store, keys.operatorRevoked(record.name), Revoked).catch(() => null);
    out.push({ name: record.name, role: record.role, createdAt: record.createdAt, createdBy: record.createdBy, revokedAt: revoked?.revokedAt ?? null });
  }
  return out;
}

export async function revokeOperator(deps: CoordinatorDeps, name: string, by: string): Promise<{ name: string; revokedAt: number }> {
  if ((await readJson(deps.store, keys.operator(name), OperatorRecord).catch(() => null)) === null) throw new ConsiliumError("NO_OPERATOR", `no operator named ${name}`, 404);
  // Write-once: revoking twice keeps the first time.
  await writeJson(deps.store, keys.operatorRevoked(name), { name, revokedAt: deps.clock.now(), by }, { ifAbsent: true });
  const kept = await readJson(deps.store, keys.operatorRevoked(name), Revoked);
  deps.logger.warn("operator credential revoked", { name, by });
  return { name, revokedAt: kept?.revokedAt ?? deps.clock.now() };
}
