/**
 * The dashboard in a real browser: Debian's Chromium (`/usr/bin/chromium`; `.ci/run` installs it)
 * driven by playwright-core, headless and kept off the network, over a finished heart-disease
 * federation of the four real hospitals on the in-process coordinator. It signs in with the
 * keyboard, opens each page (overview, sites, rounds, models, audit), finds every hospital, checks
 * each chart drew (pixels on its canvas),
 * the quality flag of the hospital the checks flagged, navigation by keyboard, no console error and
 * no request leaving the coordinator; and the same federation's HTML report (`simulate --html`)
 * opened from a file with every other request refused. Screenshots of each page go to
 * `.build/screenshots/dashboard/`.
 */
import { modelName } from "../core/model/model-spec.ts";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateOnce, startDeployment } from "../cli/simulate.ts";
import { silentLogger } from "../core/logger.ts";
import type { FederationStatus } from "../core/schemas/status.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { builtinPlan } from "../bench/plan.ts";
import { renderHtmlReport, reportCharts } from "../cli/html-report.tsx";
import { summariseRuns } from "../core/report/summarise-runs.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Headless and off the network: without these Chromium keeps trying the (closed) network. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
const SCREENSHOTS = join(import.meta.dirname, "..", ".build", "screenshots", "dashboard");

interface Seen {
  readonly status: FederationStatus;
  readonly consoleErrors: string[];
  readonly outside: string[];
  readonly pages: Record<string, { text: string; chartPixels: number[]; flagged: string[]; url: string }>;
  readonly keyboard: { signedInByKeyboard: boolean; sitesByKeyboard: boolean };
}

/**
 * For each chart on the page, the pixels of its canvas in the colour of its first series (the
 * line or dots the data drew: axes, grid and labels are other colours), within a small tolerance
 * for anti-aliasing.
 */
async function chartPixels(page: Page): Promise<number[]> {
  await page.waitForSelector("[data-chart] canvas", { timeout: 10_000 });
  return page.$$eval("[data-chart]", (charts) =>
    charts.map((chart) => {
      // Browser types, spelt out: this project's TypeScript has no DOM library.
      const el = chart as unknown as { dataset: { chart: string }; querySelector(s: string): unknown; ownerDocument: { getElementById(id: string): { textContent: string } | null } };
      const spec = JSON.parse(el.ownerDocument.getElementById(el.dataset.chart)?.textContent ?? "{}") as { series?: { color: string }[] };
      const hex = spec.series?.[0]?.color ?? "#000000";
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const canvas = el.querySelector("canvas") as { width: number; height: number; getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } | null;
      if (!canvas) return 0;
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && Math.abs(data[i]! - r!) < 24 && Math.abs(data[i + 1]! - g!) < 24 && Math.abs(data[i + 2]! - b!) < 24) painted++;
      return painted;
    }),
  );
}

describe("the dashboard, in Chromium, over a finished heart-disease federation", () => {
  let seen: Seen;
  let auditActions: string[] = [];
  let refreshed = 0;
  let signedOut = 0;
  let reportSeen: { pixels: number[]; errors: string[]; requested: string[]; text: string; charts: string[] };
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`);
    await selectBackend();
    await mkdir(SCREENSHOTS, { recursive: true });
    const plan = await builtinPlan("heart-disease", 1, { rounds: 6 });
    let deployment: Awaited<ReturnType<typeof startDeployment>> | undefined;
    const run = await simulateOnce(plan, 1, {
      logger: silentLogger,
      deploy: async () => (deployment = await startDeployment(plan, { logger: silentLogger })),
      onStack: async () => {
        const d = deployment!;
        const status = await d.admin.status();
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const consoleErrors: string[] = [];
        const outside: string[] = [];
        page.on("console", (m) => void (m.type() === "error" && consoleErrors.push(m.text())));
        page.on("pageerror", (e) => void consoleErrors.push(String(e)));
        page.on("request", (r) => void (!r.url().startsWith(d.url) && !r.url().startsWith("data:") && outside.push(r.url())));

        // Sign in with the keyboard only: the field has focus, type, Enter.
        await page.goto(`${d.url}/dashboard`);
        await page.waitForURL(/\/dashboard\/sign-in$/);
        await page.keyboard.type(d.deps.adminToken);
        await page.keyboard.press("Enter");
        await page.waitForURL(/\/dashboard$/);
        const signedInByKeyboard = page.url().endsWith("/dashboard");
        const pages: Seen["pages"] = {};
        const look = async (name: string) => {
          const pixels = await chartPixels(page).catch((e: unknown) => { throw new Error(`${String(e)}; console: ${consoleErrors.join(" | ")}; html: ${"" /* */}`); });
          await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
          const flagged = await page.$$eval("tr[data-site]", (rows) => rows.filter((r) => r.querySelector(".tag.warn, .tag.bad")).map((r) => r.getAttribute("data-site") ?? ""));
          pages[name] = { text: await page.innerText("body"), chartPixels: pixels, flagged, url: page.url() };
        };
        await look("overview");
        // The page refreshes its main section in place (every 5 s) and draws its chart again.
        await page.waitForFunction(() => /^updated /.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById("live")?.textContent ?? ""), undefined, { timeout: 15_000 });
        refreshed = (await chartPixels(page))[0] ?? 0;

        // To the sites page by keyboard: Tab to its link, Enter.
        let sitesByKeyboard = false;
        for (let i = 0; i < 10 && !sitesByKeyboard; i++) {
          await page.keyboard.press("Tab");
          sitesByKeyboard = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement?.textContent === "Sites");
        }
        if (sitesByKeyboard) {
          await page.keyboard.press("Enter");
          await page.waitForURL(/\/dashboard\/sites$/);
        }
        await look("sites");
        for (const name of ["rounds", "models"]) {
          await page.goto(`${d.url}/dashboard/${name}`);
          await look(name);
        }
        // The audit trail, filtered by action through its form.
        await page.goto(`${d.url}/dashboard/audit`);
        await page.fill("input[name=action]", "site.");
        await page.click("form.filters button");
        await page.waitForURL(/action=site\./);
        await page.screenshot({ path: join(SCREENSHOTS, "audit.png"), fullPage: true });
        auditActions = await page.$$eval("tr[data-seq] td:nth-child(4)", (cells) => cells.map((c) => c.textContent ?? ""));
        // Signing out: back at the sign-in form, and a page's refresh is refused.
        await page.click("header form button");
        await page.waitForURL(/\/dashboard\/sign-in$/);
        signedOut = (await page.request.get(`${d.url}/dashboard?fragment=main`)).status();
        seen = { status, consoleErrors, outside, pages, keyboard: { signedInByKeyboard, sitesByKeyboard } };
      },
    });
    // The same federation's report as one HTML file, opened from disk with every request but the file's refused.
    const report = summariseRuns({ backend: "wasm", dataset: "heart-disease", model: modelName(plan.model), strategy: plan.strategy, codec: plan.codec, roundsPlanned: plan.rounds }, [run]);
    const file = join(SCREENSHOTS, "report.html");
    await writeFile(file, renderHtmlReport(report));
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const requested: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url === pathToFileURL(file).href) return route.continue();
      requested.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("pageerror", (e) => void errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    const pixels = await chartPixels(page);
    await page.screenshot({ path: join(SCREENSHOTS, "report.png"), fullPage: true });
    reportSeen = { pixels, errors, requested, text: await page.innerText("body"), charts: reportCharts(report).map((c) => c.id) };
  }, 300_000);
  afterAll(async () => browser?.close());

  it("signs in and moves between pages with the keyboard alone", () => {
    expect(seen.keyboard).toEqual({ signedInByKeyboard: true, sitesByKeyboard: true });
    expect(signedOut).toBe(401);
  });

  it("shows the finished federation on the overview, its learning curves (pooled AUROC, training loss) drawn", () => {
    const overview = seen.pages.overview!;
    expect(seen.status.state.phase).toBe("done");
    expect(overview.text).toContain("done");
    expect(overview.text).toContain(`${seen.status.state.round} of ${seen.status.rounds}`);
    expect(overview.chartPixels.length).toBe(2);
    expect(overview.chartPixels[0]).toBeGreaterThan(300);
    expect(overview.chartPixels[1]).toBeGreaterThan(100);
    expect(refreshed).toBeGreaterThan(300);
  });

  it("lists the four hospitals with their numbers, the flagged one marked, each one's learning curves and the accuracy chart drawn", () => {
    const sites = seen.pages.sites!;
    expect(seen.status.sites).toHaveLength(4);
    for (const s of seen.status.sites) expect(sites.text).toContain(s.name);
    // The quality checks flag a hospital of this dataset (Switzerland's prevalence); the page marks exactly the flagged ones.
    const flaggedByStatus = [...new Set((seen.status.quality?.flags ?? []).map((f) => f.siteId))].sort();
    expect(flaggedByStatus.length).toBeGreaterThan(0);
    expect([...sites.flagged].sort()).toEqual(flaggedByStatus);
    for (const f of seen.status.quality?.flags ?? []) expect(sites.text).toContain(f.reason);
    // Each hospital's AUROC by version and training loss by round (the first hospital's line counted), then the accuracy dots.
    expect(sites.chartPixels).toHaveLength(3);
    expect(sites.chartPixels[0]).toBeGreaterThan(100);
    expect(sites.chartPixels[1]).toBeGreaterThan(100);
    expect(sites.chartPixels[2]).toBeGreaterThan(40);
  });

  it("shows every round with its traffic chart, the final model's ROC curve and calibration, and the audit trail filtered", () => {
    const rounds = seen.pages.rounds!;
    expect(rounds.chartPixels[0]).toBeGreaterThan(300);
    for (const r of seen.status.roundLog) expect(rounds.text).toContain(`${r.round}\tclosed`);
    const models = seen.pages.models!;
    // ROC curve and calibration, both drawn.
    expect(models.chartPixels).toHaveLength(2);
    expect(Math.min(...models.chartPixels)).toBeGreaterThan(300);
    for (const s of seen.status.sites) expect(models.text).toContain(s.name);
    // Enrolments are in the trail; the filter shows them and nothing else.
    expect(auditActions.length).toBeGreaterThanOrEqual(4);
    expect(auditActions.every((a) => a.startsWith("site."))).toBe(true);
  });

  it("writes a report that opens from a file with the network refused and draws every chart: learning curves, sites, ROC curves, calibration, traffic", () => {
    // Pooled AUROC, training loss and each hospital's AUROC by round; no privacy chart (no privacy policy in this run).
    expect(reportSeen.charts).toEqual(["learning", "loss", "site-learning", "sites", "roc", "calibration", "bytes"]);
    expect(reportSeen.pixels).toHaveLength(reportSeen.charts.length);
    // Lines paint hundreds of pixels in their colour; the sites' dots fewer (a later series' dot can cover one), none when nothing drew.
    reportSeen.charts.forEach((id, i) => expect(reportSeen.pixels[i], id).toBeGreaterThan(id === "sites" ? 40 : 100));
    // Its policy lets its own inline script and style run (a refused one is a console error) and nothing load.
    expect(reportSeen.errors).toEqual([]);
    expect(reportSeen.requested).toEqual([]);
    for (const s of seen.status.sites) expect(reportSeen.text).toContain(s.name);
    for (const f of seen.status.quality?.flags ?? []) expect(reportSeen.text).toContain(f.reason);
    // The operating point the run chose, with the rates at it and at 0.5.
    const op = seen.status.final?.operatingPoint;
    expect(op).toBeTruthy();
    expect(reportSeen.text).toContain(`The global model is used at threshold ${op!.threshold.toFixed(3)}, chosen by Youden's J`);
    expect(reportSeen.text).toContain(`Sensitivity at ${op!.threshold.toFixed(3)}`);
  });

  it("logs no console error and sends no request anywhere but the coordinator", () => {
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.outside).toEqual([]);
  });
});
