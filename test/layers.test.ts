/**
 * The layering rules of scripts/layers.ts: the repository keeps them, and a planted tree with one
 * violation of each kind (and imports that look like violations but are not) is reported exactly.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLayers, formatViolation } from "../scripts/layers.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

const planted: Record<string, string> = {
  "core/a.ts": `import { b } from "../functions/b.ts";\nexport const a = b;`,
  "core/a.test.ts": `import { g } from "../cli/g.ts";\nimport "../test/support/h.ts";`,
  "core/node_modules/pkg/index.ts": `import "../../../functions/b.ts";`,
  "functions/b.ts": `export const b = 1;`,
  "gpu-runner/c.ts": `import { d } from "../functions/d.js";\nimport type { Route } from "../functions/routes/x.ts";`,
  "functions/d.ts": `export const d = 1;`,
  "functions/e.ts": `export * from "../gpu-runner/f";\nimport { a } from "../core/a.ts";`,
  "gpu-runner/f.ts": `export const f = 1;`,
  "gpu-runner/pool.ts": `new Worker(new URL("../cli/worker.mjs", import.meta.url));\nnew URL("../datasets/", import.meta.url);`,
  "cli/worker.mjs": `await import("./g.ts");`,
  "functions/app.ts": `export const app = 1;`,
  "functions/routes/x.ts": `export const route = 1;\nexport type Route = number;`,
  "functions/use-cases/y.ts": `export type Y = number;`,
  "functions/handlers/api.ts": `export const handler = 1;`,
  "client/typed.ts": `import type { Route } from "../functions/routes/x.ts";\nexport type App = typeof import("../functions/app.ts");\nexport type { Y } from "../functions/use-cases/y.ts";`,
  "client/runtime.ts": `import { route } from "../functions/routes/x.ts";\nimport { a } from "../core/a.ts";`,
  // verbatimModuleSyntax keeps this as `import {} from "…"`, which loads the routes at run time.
  "client/inline-type.ts": `import { type Route } from "../functions/routes/x.ts";`,
  "cli/g.ts": `import { h } from "../test/support/h.ts";\nimport { f } from "../gpu-runner/f.ts";\nexport const g = h + f;`,
  "test/support/h.ts": `import { b } from "../../functions/b.ts";\nexport const h = b;`,
  "infra/api.ts": `new sst.aws.Function("Api", { handler: "functions/handlers/api.handler" });\nnew sst.aws.Function("Y", { handler: "functions/use-cases/y.handler" });`,
  "sst.config.ts": `export default $config({ async run() { await import("./infra/api"); } });`,
  "bench/z.ts": `import "../test/support/h.ts";`,
  // Forms that load a module other than a static import, type-only imports under rules without a type list, built-ins.
  "core/forms.ts": `import type { B } from "../functions/b.ts";\nimport x = require("../functions/d.ts");\nconst y = require("../gpu-runner/f.ts");\nimport.meta.resolve("../cli/g.ts");\nimport { readFileSync } from "node:fs";\nimport { createHash } from "node:crypto";`,
  "gpu-runner/typed.ts": `import type { H } from "../test/support/h.ts";`,
};

const CORE = "core/ imports nothing outside core/ (of node's built-ins, node:crypto only)";
const expected = [
  "cli/g.ts -> test/support/h.ts: production code never imports a test file or test/",
  "client/inline-type.ts -> functions/routes/x.ts: client/ imports only core/ at run time, types also from functions/routes/ and functions/app.ts",
  "client/runtime.ts -> functions/routes/x.ts: client/ imports only core/ at run time, types also from functions/routes/ and functions/app.ts",
  "client/typed.ts -> functions/use-cases/y.ts: client/ imports only core/ at run time, types also from functions/routes/ and functions/app.ts",
  `core/a.ts -> functions/b.ts: ${CORE}`,
  `core/forms.ts -> cli/g.ts: ${CORE}`,
  `core/forms.ts -> functions/b.ts: ${CORE}`,
  `core/forms.ts -> functions/d.ts: ${CORE}`,
  `core/forms.ts -> gpu-runner/f.ts: ${CORE}`,
  `core/forms.ts -> node:fs: ${CORE}`,
  "functions/e.ts -> gpu-runner/f.ts: functions/ imports only core/ and client/",
  "gpu-runner/c.ts -> functions/d.ts: gpu-runner/ imports only core/ and client/",
  "gpu-runner/c.ts -> functions/routes/x.ts: gpu-runner/ imports only core/ and client/",
  "gpu-runner/pool.ts -> cli/worker.mjs: gpu-runner/ imports only core/ and client/",
  "gpu-runner/typed.ts -> test/support/h.ts: production code never imports a test file or test/",
  "infra/api.ts -> functions/use-cases/y.ts: infra/ and sst.config.ts import only infra/ and functions/handlers/",
];

describe("the layering rules", () => {
  let dir: string;
  const tree = (name: string, files: Record<string, string>): string => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name, path)), { recursive: true });
      writeFileSync(join(dir, name, path), `${text}\n`);
    }
    return join(dir, name);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "consilium-layers-"));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hold in the repository", () => {
    expect(checkLayers(repoRoot).map(formatViolation)).toEqual([]);
  });

  it("report exactly the planted violations", () => {
    expect(checkLayers(tree("planted", planted)).map(formatViolation)).toEqual(expected);
  });

  it("fail the command line on a violation and pass it on a clean tree", () => {
    const script = join(repoRoot, "scripts/layers.ts");
    const run = (root: string) => spawnSync(process.execPath, ["--import", "tsx", script, root], { cwd: repoRoot, encoding: "utf8" });

    const bad = run(tree("planted-cli", planted));
    expect(bad.status).toBe(1);
    expect(bad.stdout.trim().split("\n")).toEqual(expected);

    const good = run(tree("clean", { "core/ok.ts": `import { b } from "./b.ts";`, "core/b.ts": `export const b = 1;` }));
    expect(good.status).toBe(0);
    expect(good.stdout).toBe("");
  });
});
