import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { countPredictions } from "../../core/metrics/index.ts";
import type { Report } from "../../core/schemas/report.ts";
import { ADMIN_TOKEN, delta, Harness, type TestSite } from "../../test/support/coordinator.ts";
import { memoryIo } from "./flags.ts";
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

  it("draws each hospital's learning curve, and leaves the per-site curves out, saying why, when a consortium's updates do not fit one answer", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ rounds: 3 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    await h.runJobs();
    // Round 2's updates measure model 1 at each hospital before training from it.
    const labels = new Uint8Array([0, 1, 0, 1, 1]);
    for (const [i, site] of sites.entries()) {
      const manifest = await h.upload(site, 2, delta(i + 1), 2);
      const baseMetrics = countPredictions(Float64Array.from(labels, (y, k) => (y ? 0.6 : 0.4) + (i - 1) * 0.15 * (k % 2 ? 1 : -1)), labels);
      expect((await h.postUpdate(site, 2, { ...manifest, baseMetrics, trainLoss: 0.5 })).status).toBe(202);
    }
    const dir = await mkdtemp(join(tmpdir(), "consilium-report-"));
    try {
      const file = join(dir, "report.html");
      const { result } = await runOperatorCommand(h, reportCommand, ["--html", file]);
      const curves = (result as Report).runs[0]!.rounds[0]!.siteAuroc!;
      expect(Object.keys(curves).sort()).toEqual(sites.map((s) => s.siteId).sort());
      expect(new Set(Object.values(curves)).size).toBeGreaterThan(1);
      expect(await readFile(file, "utf8")).toContain('id="site-learning-data"');
      // The coordinator leaves the per-site lists out as it does past MAX_STATUS_PER_SITE updates.
      const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: ADMIN_TOKEN });
      const omitting = (async (input: string | URL | Request, init?: RequestInit) => {
        const request = new Request(input, init);
        const url = new URL(request.url);
        if (url.searchParams.get("perSite") !== "true") return h.app.request(request);
        url.searchParams.delete("perSite");
        const status = (await (await h.app.request(new Request(url, init))).json()) as object;
        return Response.json({ ...status, perSiteOmitted: "the rounds hold 30000 updates" });
      }) as typeof fetch;
      const report = await reportCommand(["--html", file, "--coordinator", "http://coordinator.test"], { io, fetchFn: omitting });
      expect(io.errLines[0]).toBe("per-site learning curves left out: the rounds hold 30000 updates");
      expect(report.runs[0]!.rounds.length).toBe(2);
      expect(report.runs[0]!.rounds.every((r) => r.siteAuroc === undefined)).toBe(true);
      expect(await readFile(file, "utf8")).not.toContain('id="site-learning-data"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
