import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED, generateAssets } from "../../scripts/dashboard-assets.ts";
import { ASSETS } from "./assets.generated.ts";

describe("the dashboard's assets", () => {
  it("are generated from uplot and the dashboard's own client.js and app.css as they are now (npm run dashboard:assets)", () => {
    expect(readFileSync(GENERATED, "utf8")).toBe(generateAssets());
    expect(Object.keys(ASSETS).sort()).toEqual(["app.css", "app.js", "uplot.css", "uplot.js"]);
    expect(ASSETS["uplot.js"]!.body).toContain("uPlot");
  });
});
