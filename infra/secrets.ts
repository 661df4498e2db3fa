// Set per stage with `npx sst secret set AdminToken <value>`; read in handlers via Resource.AdminToken.
export const adminToken = new sst.Secret("AdminToken");
// The Ed25519 seed (32 bytes, hex) that signs the audit trail's checkpoints: `npx sst secret set AuditKey $(openssl rand -hex 32)`.
export const auditKey = new sst.Secret("AuditKey");

const byName = { AdminToken: adminToken, AuditKey: auditKey };

/** The secrets a function links, by the names infra/functions.ts gives. */
export const linked = (names: readonly (keyof typeof byName)[]) => names.map((n) => byName[n]);
