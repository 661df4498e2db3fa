/**
 * docs/architecture.md is the map of the code: every folder of core/, functions/ (its use cases'
 * folders included) and gpu-runner/ is named there, so that a folder added without its place on
 * the map fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const folders = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}/`);

describe("docs/architecture.md", () => {
  it("names every folder of core/, functions/ and gpu-runner/", () => {
    const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
    const all = [...folders("core"), ...folders("functions"), ...folders("functions/use-cases"), ...folders("gpu-runner")];
    expect(all.length).toBeGreaterThan(25);
    expect(all.filter((f) => !doc.includes(`\`${f}`))).toEqual([]);
  });
});
