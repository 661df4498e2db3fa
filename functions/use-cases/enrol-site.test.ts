import { describe, expect, it, vi } from "vitest";
import { SiteRecord } from "../../core/schemas/federation.ts";
import { authenticateSite } from "../auth.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { testDeps } from "../../test/support/coordinator.ts";
import { enrolSite } from "./enrol-site.ts";

// Site ids end in 3 random bytes; pinning them makes a collision certain instead of one in 16 million.
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return { ...crypto, randomBytes: (size: number) => (size === 3 ? Buffer.from([0xab, 0xcd, 0xef]) : crypto.randomBytes(size)) };
});

describe("enrolSite", () => {
  it("derives the site id from the name and stores only the credential's hash", async () => {
    // Prepare
    const deps = testDeps();
    // Execute
    const { siteId, token } = await enrolSite(deps, "  St. Mary's Hospital (North) ");
    // Assert
    expect(siteId).toBe("st-mary-s-hospital-north-abcdef");
    expect(await readJson(deps.store, keys.site(siteId), SiteRecord)).toEqual({
      id: siteId, name: "  St. Mary's Hospital (North) ", tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/), enrolledAt: deps.clock.now(),
    });
    expect(new TextDecoder().decode((await deps.store.get(keys.site(siteId)))!)).not.toContain(token);
    expect(await authenticateSite(`Bearer ${token}`, deps.store)).toMatchObject({ id: siteId });
  });

  it("falls back to a generic slug for a name without letters or digits", async () => {
    const deps = testDeps();
    expect((await enrolSite(deps, "*** ***")).siteId).toBe("site-abcdef");
  });

  it("refuses an id that is already taken instead of handing out a credential that can never work", async () => {
    // Prepare
    const deps = testDeps();
    const first = await enrolSite(deps, "General");
    // Execute
    const second = await enrolSite(deps, "General").catch((error: unknown) => error);
    // Assert
    expect(second).toMatchObject({ code: "SITE_ID_TAKEN", status: 409, message: "site id general-abcdef is taken; enrol again" });
    expect(await authenticateSite(`Bearer ${first.token}`, deps.store)).toMatchObject({ id: "general-abcdef", name: "General" });
    expect(await deps.store.list(keys.sites)).toEqual(["sites/general-abcdef.json"]);
  });
});
