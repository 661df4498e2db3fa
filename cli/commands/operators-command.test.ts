import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, Harness } from "../../test/support/coordinator.ts";
import { UsageError } from "./flags.ts";
import { operatorsCommand } from "./operators-command.ts";
import { runOperatorCommand } from "../../test/support/cli.ts";

/** `consilium operators …` against the harness's app, the credential from the environment. */
const operators = (h: Harness, argv: string[], token = ADMIN_TOKEN) => runOperatorCommand(h, operatorsCommand, argv, token);

describe("consilium operators", () => {
  it("adds an operator (its credential printed once, as JSON), lists them and revokes one", async () => {
    const h = new Harness();
    await h.startTraining();
    const added = await operators(h, ["add", "dana", "--role", "viewer"]);
    const credential = JSON.parse(added.io.outLines.join("\n")) as { name: string; role: string; token: string };
    expect(credential).toMatchObject({ name: "dana", role: "viewer", token: expect.stringMatching(/^co_dana_/) });
    expect(added.io.errLines).toEqual(["operator dana added as viewer: hand the token over privately; it is not shown again"]);

    // The viewer may list nothing of the operators (an owner's), and reads the status.
    const asViewer = await operators(h, ["list"], credential.token);
    expect(asViewer.result).toMatchObject({ message: expect.stringMatching(/operator dana is a viewer: listing the operators needs the owner role/) });

    const listed = await operators(h, ["list"]);
    expect(listed.io.outLines.join("\n")).toMatch(/│ dana +│ viewer +│ \d{4}-\d\d-\d\dT[\d:]+Z +│ admin +│ +│/);
    const revoked = await operators(h, ["revoke", "dana"]);
    expect(revoked.io.outLines[0]).toMatch(/^operator dana revoked at \d{4}-\d\d-\d\dT[\d:]+Z: refused from the next request on$/);
    const after = await operators(h, ["list", "--json"]);
    expect(JSON.parse(after.io.outLines.join("\n"))[0].revokedAt).toEqual(expect.any(Number));
  });

  it("refuses a missing name or role, a bad name and a role outside add", async () => {
    const h = new Harness();
    expect((await operators(h, ["add", "--role", "viewer"])).result).toMatchObject({ message: expect.stringMatching(/add: expected the operator's name first/) });
    expect((await operators(h, ["add", "dana"])).result).toMatchObject({ message: "--role: required: viewer, operator or owner" });
    expect((await operators(h, ["add", "Dana!", "--role", "viewer"])).result).toBeInstanceOf(UsageError);
    expect((await operators(h, ["add", "dana", "--role", "god"])).result).toBeInstanceOf(UsageError);
    expect((await operators(h, ["list", "--role", "viewer"])).result).toMatchObject({ message: "--role goes with add" });
    expect((await operators(h, ["grant"])).result).toMatchObject({ message: expect.stringMatching(/unknown action "grant"/) });
  });
});
