import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Harness, type TestSite } from "../../test/support/coordinator.ts";
import { UsageError } from "./flags.ts";
import { sitesCommand } from "./sites-command.ts";
import { runOperatorCommand } from "../../test/support/cli.ts";

/** `consilium sites …` against the harness's app, the credential from the environment. */
const sites = (h: Harness, argv: string[]) => runOperatorCommand(h, sitesCommand, argv);

describe("consilium sites", () => {
  it("lists the hospitals, rotates one's credential (printed once, as JSON) and revokes another", async () => {
    const h = new Harness();
    const [a, b] = (await h.startTraining()) as [TestSite, TestSite];
    const listed = await sites(h, ["list"]);
    expect(listed.io.outLines.join("\n")).toMatch(new RegExp(`│ ${a.siteId} +│ St Mary's +│ reported +│ 0 +│ — +│`));

    const rotated = await sites(h, ["rotate", a.siteId, "--expires-days", "90"]);
    const credential = JSON.parse(rotated.io.outLines.join("\n")) as { siteId: string; generation: number; token: string; expiresAt: number };
    expect(credential).toMatchObject({ siteId: a.siteId, generation: 1, token: expect.stringMatching(new RegExp(`^cs_${a.siteId}\\.1_`)) });
    expect(rotated.io.errLines[0]).toMatch(/credential generation 1, expires \d{4}-.*; the one before is refused from its next request/);
    expect((await h.request("GET", "/v1/task", { token: credential.token })).status).toBe(200);
    expect((await h.request("GET", "/v1/task", { token: a.token })).status).toBe(401);

    const revoked = await sites(h, ["revoke", b.siteId]);
    expect(revoked.io.outLines[0]).toMatch(new RegExp(`^site ${b.siteId} revoked at .*: every credential it holds is refused from its next request$`));
    expect((await h.request("GET", "/v1/task", { token: b.token })).status).toBe(401);
  });

  it("refuses a missing or malformed site id and --expires-days outside rotate", async () => {
    const h = new Harness();
    expect((await sites(h, ["rotate"])).result).toMatchObject({ message: expect.stringMatching(/rotate: expected the site id first/) });
    expect((await sites(h, ["revoke", "../x"])).result).toBeInstanceOf(UsageError);
    expect((await sites(h, ["list", "--expires-days", "3"])).result).toMatchObject({ message: "--expires-days goes with rotate" });
    expect((await sites(h, ["rotate", "x", "--expires-days", "0"])).result).toBeInstanceOf(UsageError);
  });
});
