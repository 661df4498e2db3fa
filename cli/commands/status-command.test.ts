import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, delta, federationConfig, Harness, type TestSite } from "../../test/support/coordinator.ts";
import { federationCreateCommand } from "./federation-command.ts";
import { memoryIo, UsageError } from "./flags.ts";
import { roundsCommand, statusCommand } from "./status-command.ts";
import { runOperatorCommand, type OperatorCommand } from "../../test/support/cli.ts";

type Command = OperatorCommand;

/** A command against the harness's app, the credential from the environment. */
const run = (h: Harness, command: Command, argv: string[], token = ADMIN_TOKEN) => runOperatorCommand(h, command, argv, token);

describe("operator commands against any coordinator", () => {
  it("shows the status and the rounds to a viewer: tables for people, JSON for scripts", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ rounds: 3 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    await h.runJobs();
    const viewer = ((await h.admin("POST", "/v1/admin/operators", { name: "dana", role: "viewer" })).body as { token: string }).token;

    const status = await run(h, statusCommand, [], viewer);
    expect(status.io.outLines[0]).toBe(`test-fed: training, round 2 of 3; model v1; ${(status.result as { strategy: string }).strategy}, float32`);
    expect((status.result as { strategy: string }).strategy).toMatch(/^[a-z]/);
    expect(status.io.outLines.join("\n")).toMatch(new RegExp(`│ ${sites[0]!.siteId} +│ St Mary's +│ reported +│ 1 +│`));

    const list = await run(h, roundsCommand, ["list"], viewer);
    expect(list.io.outLines.join("\n")).toMatch(/│ 1 +│ closed +│ 3 +│ 3 +│ 0 +│/);
    const show = await run(h, roundsCommand, ["show", "1"], viewer);
    expect(show.io.outLines[0]).toMatch(/^round 1: closed; from model v0 to v1; 3 updates, [\d.]+ MB up, [\d.]+ MB down; took [\d.]+ s$/);
    expect(show.io.outLines[1]).toBe(`included: ${sites.map((s) => s.siteId).sort().join(", ")}`);
    const json = await run(h, roundsCommand, ["show", "1", "--json"], viewer);
    expect(JSON.parse(json.io.outLines.join("\n")).round).toBe(1);
    expect((await run(h, roundsCommand, ["show", "9"], viewer)).result).toMatchObject({ code: "NO_ROUND", message: "no round 9 in the active run (it has rounds 1 to 2)" });
    expect((await run(h, roundsCommand, ["show"], viewer)).result).toBeInstanceOf(UsageError);
  });

  it("creates the consortium for an owner from a config file or a dataset, and refuses a viewer naming the role", async () => {
    const dir = await mkdtemp(join(tmpdir(), "consilium-create-"));
    try {
      const file = join(dir, "consortium.json");
      await writeFile(file, JSON.stringify(federationConfig({ id: "from-file" })));
      const h = new Harness();
      const created = await run(h, federationCreateCommand, ["--config", file]);
      expect(created.io.outLines[0]).toMatch(/^consortium from-file created at http:\/\/coordinator\.test: 3 sites expected, 3 rounds a run, /);
      expect(((await h.admin("GET", "/v1/admin/runs")).body as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual(["from-file"]);

      const other = new Harness();
      const viewer = await other.admin("POST", "/v1/admin/operators", { name: "dana", role: "viewer" });
      const refused = await run(other, federationCreateCommand, ["--dataset", "heart-disease", "--rounds", "5"], (viewer.body as { token: string }).token);
      expect(refused.result).toMatchObject({ code: "ROLE_FORBIDDEN", message: "operator dana is a viewer: creating the consortium needs the owner role" });
      const made = await run(other, federationCreateCommand, ["--dataset", "heart-disease", "--rounds", "5", "--sites", "4"]);
      expect(made.io.outLines[0]).toMatch(/^consortium heart-disease created at .*: 4 sites expected, 5 rounds a run, /);

      expect((await run(h, federationCreateCommand, [])).result).toMatchObject({ message: expect.stringMatching(/give one of --config FILE.json, --dataset NAME or --cdm FILE.json/) });
      expect((await run(h, federationCreateCommand, ["--config", file, "--rounds", "2"])).result).toBeInstanceOf(UsageError);
      expect((await run(h, federationCreateCommand, ["--config", join(dir, "missing.json")])).result).toMatchObject({ message: expect.stringMatching(/^--config: cannot read /) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says which coordinator it cannot reach, and passes a wrong token's refusal on with its code", async () => {
    // A port that was bound and let go: the connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: ADMIN_TOKEN });
    const unreachable = await statusCommand(["--coordinator", `http://127.0.0.1:${port}`], { io }).catch((err: unknown) => err);
    expect(unreachable).toMatchObject({ code: "COORDINATOR_UNREACHABLE", message: `cannot reach the coordinator at http://127.0.0.1:${port}: ECONNREFUSED` });
    // A token a header cannot carry is not a network failure.
    const curly = await statusCommand(["--coordinator", `http://127.0.0.1:${port}`], { io: memoryIo({ CONSILIUM_ADMIN_TOKEN: "token\u201Cquoted" }) }).catch((err: unknown) => err);
    expect(curly).not.toMatchObject({ code: "COORDINATOR_UNREACHABLE" });
    const h = new Harness();
    await h.startTraining();
    expect((await run(h, statusCommand, [], "a-wrong-token-of-some-length")).result).toMatchObject({ code: "FORBIDDEN", message: "wrong admin token: this is not the coordinator's admin token" });
  });
});
