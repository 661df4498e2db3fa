import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { delta, Harness, type TestSite } from "../../test/support/coordinator.ts";
import { reportCommand } from "./report-command.ts";
import { runOperatorCommand } from "../../test/support/cli.ts";

describe("consilium report", () => {
  it("writes a live federation's report as one HTML file with a viewer's credential, every script and style inline and allowed by its hash", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ rounds: 3 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    await h.runJobs();
    const viewer = ((await h.admin("POST", "/v1/admin/operators", { name: "dana", role: "viewer" })).body as { token: string }).token;
    const dir = await mkdtemp(join(tmpdir(), "consilium-report-"));
    try {
      const file = join(dir, "report.html");
      const { io, result } = await runOperatorCommand(h, reportCommand, ["--html", file], viewer);
      const report = result as Awaited<ReturnType<typeof reportCommand>>;
      expect(io.errLines).toEqual([`wrote ${file}: test-fed, training, 2 of 3 rounds`]);
      expect(report.sites.map((s) => s.name).sort()).toEqual(["General Hospital", "Royal Infirmary", "St Mary's"]);
      const html = await readFile(file, "utf8");
      expect(html.startsWith("<!doctype html>")).toBe(true);
      for (const s of report.sites) expect(html).toContain(s.name.replace("'", "&#39;"));
      // Nothing is loaded: no src or href but the blank icon; the policy names each inline script's and style's hash.
      expect([...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(["data:,"]);
      const policy = (/http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? "").replace(/&#39;/g, "'");
      expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'sha256-[^']+';/);
      expect(html.match(/<script>/g)?.length).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
