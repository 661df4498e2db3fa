import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, delta, Harness, edgeCounts } from "../../test/support/coordinator.ts";
import { keys } from "../../functions/keys.ts";
import { readJson, writeJson } from "../../functions/repo.ts";
import { ModelCard } from "../../core/registry/index.ts";
import { UsageError } from "./flags.ts";
import { modelsCommand } from "./models-command.ts";
import { runOperatorCommand } from "../../test/support/cli.ts";

const counts = edgeCounts;

/** A finished run (registered as version 1, the champion) and a second version as a later run would leave it. */
async function registry(): Promise<Harness> {
  const h = new Harness();
  const sites = await h.startTraining({ rounds: 1 });
  for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i), 2);
  await h.runJobs();
  const global = counts(30, 5, 30, 5);
  for (const site of sites) await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: 1, trainRows: 70, testRows: 70, global, personalized: global, local: global } });
  const card = (await readJson(h.deps.store, keys.registryCard(1), ModelCard))!;
  await writeJson(h.deps.store, keys.registryRun(2), { run: "spring", key: "c".repeat(64) });
  await writeJson(h.deps.store, keys.registryCard(2), { ...card, version: 2, run: "spring", parent: 1 });
  return h;
}

/** `consilium models …` against the harness's app, the admin token from the environment. */
const models = (h: Harness, argv: string[]) => runOperatorCommand(h, modelsCommand, argv);

describe("consilium models", () => {
  it("lists the versions with the champion, shows a card, promotes with a reason and rolls back", async () => {
    // Prepare
    const h = await registry();

    // Execute
    const list = await models(h, ["list"]);
    const show = await models(h, ["show", "1"]);
    const promote = await models(h, ["promote", "2", "--reason", "better on the spring data", "--expect-champion", "1"]);
    const stale = await models(h, ["promote", "1", "--reason", "x", "--expect-champion", "1"]);
    const back = await models(h, ["rollback", "--to", "1", "--reason", "version 2 under-calls at site b", "--json"]);

    // Assert
    const table = list.io.outLines.join("\n");
    expect(table).toMatch(/│ 1 +│ test-fed │ — +│ .* │ yes +│ promoted/);
    expect(table).toMatch(/│ 2 +│ spring +│ 1 +│/);
    expect(list.io.outLines.at(-1)).toMatch(/^champion: version 1 since .* \(promote by gate: promoted: /);
    expect(show.io.outLines[0]).toMatch(/^version 1 \(champion\): run test-fed, parent none, registered /);
    expect(show.io.outLines.join("\n")).toMatch(/pooled over 3 sites \(210 rows\): AUROC 0\.857 \(95 % 0\.\d\d–0\.\d\d\)/);
    expect(promote.io.outLines).toEqual(["champion: version 2 (was 1), promote by operator, entry 2: better on the spring data"]);
    expect(stale.result).toMatchObject({ code: "CHAMPION_CHANGED" });
    expect(JSON.parse(back.io.outLines.join("\n"))).toMatchObject({ seq: 3, version: 1, previous: 2, action: "rollback", by: "operator" });
  });

  it("needs an action, a version for show and promote, and a reason to move the champion", async () => {
    // Prepare
    const h = new Harness();

    // Execute
    const refusals = await Promise.all([[], ["drop"], ["show"], ["promote", "2"], ["rollback", "--reason", "r"], ["list", "--reason", "r"]].map(async (argv) => (await models(h, argv)).result));

    // Assert
    for (const r of refusals) expect(r).toBeInstanceOf(UsageError);
    expect(refusals.map((r) => (r as Error).message)).toEqual([
      "expected one of list, show, promote, rollback",
      'unknown action "drop" (known: list, show, promote, rollback)',
      "show needs a version number, e.g. consilium models show 3",
      "--reason: required: say why, for the audit trail",
      "--to: required: the former champion to go back to",
      "--reason and --expect-champion go with promote and rollback",
    ]);
  });
});
