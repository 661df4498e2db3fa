import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConsiliumError } from "../core/errors.ts";
import { MemoryObjectStore } from "./adapters/memory-object-store.ts";
import { authenticateSite, newSiteCredential, requireAdmin, sha256Text } from "./auth.ts";
import { keys } from "./keys.ts";
import { writeJson } from "./repo.ts";

const ADMIN = "correct-horse-battery-staple";

/** What `run` threw, as the fields callers may rely on. */
function thrown(run: () => unknown): { code: string; status: number; message: string } | undefined {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ConsiliumError)) throw error;
    return { code: error.code, status: error.status, message: error.message };
  }
  return undefined;
}

async function enrolled(siteId: string): Promise<{ store: MemoryObjectStore; token: string }> {
  const store = new MemoryObjectStore();
  const { token, tokenSha256 } = newSiteCredential(siteId);
  await writeJson(store, keys.site(siteId), { id: siteId, name: siteId, tokenSha256, enrolledAt: 0 });
  return { store, token };
}

describe("sha256Text", () => {
  it("hashes UTF-8 text to lowercase hex", () => {
    expect(sha256Text("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("newSiteCredential", () => {
  it("names the site, carries 24 random bytes as base64url, and keeps only the token's hash", () => {
    // Execute
    const one = newSiteCredential("st-mary-s-0a1b2c");
    const two = newSiteCredential("st-mary-s-0a1b2c");
    // Assert
    expect(one.token).toMatch(/^cs_st-mary-s-0a1b2c_[A-Za-z0-9_-]{32}$/);
    expect(one.tokenSha256).toBe(createHash("sha256").update(one.token).digest("hex"));
    expect(two.token).not.toBe(one.token);
  });
});

describe("requireAdmin", () => {
  it("accepts the admin token in a bearer header, whatever the scheme's case", () => {
    expect(thrown(() => requireAdmin(`Bearer ${ADMIN}`, ADMIN))).toBeUndefined();
    expect(thrown(() => requireAdmin(`bearer   ${ADMIN}`, ADMIN))).toBeUndefined();
  });

  it("refuses a missing, empty or non-bearer header with 401 UNAUTHENTICATED", () => {
    const unauthenticated = { code: "UNAUTHENTICATED", status: 401, message: "missing bearer token" };
    expect(thrown(() => requireAdmin(undefined, ADMIN))).toEqual(unauthenticated);
    expect(thrown(() => requireAdmin("", ADMIN))).toEqual(unauthenticated);
    expect(thrown(() => requireAdmin("Bearer ", ADMIN))).toEqual(unauthenticated);
    expect(thrown(() => requireAdmin(`Basic ${ADMIN}`, ADMIN))).toEqual(unauthenticated);
    expect(thrown(() => requireAdmin(`Bearer ${ADMIN} extra`, ADMIN))).toEqual(unauthenticated);
  });

  it("refuses a wrong token of any length with 403 FORBIDDEN rather than a length error", () => {
    const forbidden = { code: "FORBIDDEN", status: 403, message: "wrong admin token: this is not the coordinator's admin token" };
    expect(thrown(() => requireAdmin("Bearer x", ADMIN))).toEqual(forbidden);
    expect(thrown(() => requireAdmin(`Bearer ${ADMIN}-and-more`, ADMIN))).toEqual(forbidden);
    expect(thrown(() => requireAdmin(`Bearer ${ADMIN.toUpperCase()}`, ADMIN))).toEqual(forbidden);
  });

  it("lets no token through when the function has no admin token configured", () => {
    expect(thrown(() => requireAdmin("Bearer anything", ""))).toEqual({ code: "FORBIDDEN", status: 403, message: "this coordinator has no admin token set, so it refuses every admin request but a named operator's" });
  });

  it("tells a site credential sent as the admin token that it is one", () => {
    expect(thrown(() => requireAdmin("Bearer cs_zurich-0a1b2c_c2VjcmV0", ADMIN))).toEqual({ code: "FORBIDDEN", status: 403, message: "a site credential cannot make admin requests: send the consortium's admin token" });
  });
});

describe("authenticateSite", () => {
  it("returns the enrolled site for its own credential", async () => {
    // Prepare
    const { store, token } = await enrolled("royal-0a1b2c");
    // Execute
    const site = await authenticateSite(`Bearer ${token}`, store);
    // Assert
    expect(site).toEqual({ id: "royal-0a1b2c", name: "royal-0a1b2c", tokenSha256: sha256Text(token), enrolledAt: 0 });
  });

  it("refuses a token that is not a site credential with 401 UNAUTHENTICATED, before touching the store", async () => {
    // Prepare
    const { store } = await enrolled("royal-0a1b2c");
    const malformed = ["royal-0a1b2c", "cs_royal-0a1b2c", "cs_Royal_abc", "cs_../sites/x_abc", "cs__abc", "cs_royal-0a1b2c_ab+c"];
    // Execute
    const results = await Promise.all(malformed.map((t) => authenticateSite(`Bearer ${t}`, store).catch((e: ConsiliumError) => [e.code, e.status, e.message])));
    // Assert
    expect(results).toEqual(malformed.map(() => ["UNAUTHENTICATED", 401, "malformed site credential"]));
    await expect(authenticateSite(undefined, store)).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: "missing bearer token" });
  });

  it("refuses a credential for a site that is not enrolled exactly as a wrong secret, so that no answer tells which site ids exist", async () => {
    // Prepare
    const { store, token } = await enrolled("royal-0a1b2c");
    // Execute
    const unknown = await authenticateSite("Bearer cs_general-ffffff_c2VjcmV0", store).catch((e: ConsiliumError) => [e.code, e.status, e.message]);
    const wrong = await authenticateSite(`Bearer ${token}x`, store).catch((e: ConsiliumError) => [e.code, e.status, e.message]);
    // Assert
    expect(unknown).toEqual(["BAD_CREDENTIAL", 401, "unknown site or wrong credential"]);
    expect(wrong).toEqual(unknown);
  });

  it("refuses another secret for an enrolled site with 401 BAD_CREDENTIAL, whatever its length", async () => {
    // Prepare
    const { store, token } = await enrolled("royal-0a1b2c");
    const wrong = [`${token}x`, token.slice(0, -1), "cs_royal-0a1b2c_x", `cs_royal-0a1b2c_${"A".repeat(500)}`];
    // Execute
    const results = await Promise.all(wrong.map((t) => authenticateSite(`Bearer ${t}`, store).catch((e: ConsiliumError) => [e.code, e.status, e.message])));
    // Assert
    expect(results).toEqual(wrong.map(() => ["BAD_CREDENTIAL", 401, "unknown site or wrong credential"]));
  });

  it("refuses to compare against a stored record whose hash is malformed (CORRUPT_STATE), instead of throwing a length error", async () => {
    // Prepare
    const store = new MemoryObjectStore();
    await writeJson(store, keys.site("royal-0a1b2c"), { id: "royal-0a1b2c", name: "Royal", tokenSha256: "abc", enrolledAt: 0 });
    // Execute
    const result = authenticateSite("Bearer cs_royal-0a1b2c_c2VjcmV0", store);
    // Assert
    await expect(result).rejects.toMatchObject({ code: "CORRUPT_STATE", status: 500 });
  });
});
