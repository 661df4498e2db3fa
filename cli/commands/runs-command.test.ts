import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, delta, Harness, edgeCounts } from "../../test/support/coordinator.ts";
import { UsageError } from "./flags.ts";
import { runsCommand } from "./runs-command.ts";
import { runOperatorCommand } from "../../test/support/cli.ts";

const counts = edgeCounts;

/** `consilium runs …` against the harness's app, the admin token from the environment. */
const runs = (h: Harness, argv: string[]) => runOperatorCommand(h, runsCommand, argv);

describe("consilium runs", () => {
  it("asks for a run while one trains (it waits), lists both runs once the first is done, and starts one when none trains", async () => {
    // Prepare: run 1 training.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1 });

    // Execute
    const waiting = await runs(h, ["start", "--reason", "new lab reference ranges"]);
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i), 2);
    await h.runJobs();
    const global = counts(30, 5, 30, 5);
    for (const site of sites) await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: 1, trainRows: 70, testRows: 70, global, personalized: global, local: global } });
    const pending = await runs(h, ["list"]);
    await h.admin("POST", "/v1/admin/rounds/close-expired");
    const listed = await runs(h, ["list"]);
    const json = await runs(h, ["list", "--json"]);

    // Assert
    expect(waiting.io.outLines).toEqual(["recorded; run 1 is training, and the next run starts when it is done and registered"]);
    expect(pending.io.outLines.at(-1)).toBe("waiting for the next run: manual (new lab reference ranges)");
    const table = listed.io.outLines.join("\n");
    expect(table).toMatch(/│ 1 +│ test-fed +│ .* │ created \(the consortium was created\) *│ done +│ — +│ 1 +│ +│/);
    expect(table).toMatch(/│ 2 +│ test-fed-r2 +│ .* │ manual \(new lab reference ranges\) *│ stats +│ 1 +│ — +│ active │/);
    expect(listed.io.outLines.at(-1)).toBe("no trigger waiting");
    expect(JSON.parse(json.io.outLines.join("\n")).runs.map((r: { seq: number; parent: number | null }) => [r.seq, r.parent])).toEqual([[1, null], [2, 1]]);
  });

  it("refuses a start without a reason, a reason on list, and an unknown action, as usage errors", async () => {
    const h = new Harness();
    const cases = [["start"], ["list", "--reason", "x"], ["stop"]];
    for (const argv of cases) expect((await runs(h, argv)).result).toBeInstanceOf(UsageError);
  });
});
