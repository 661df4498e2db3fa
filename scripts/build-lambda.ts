/**
 * @module
 * Bundles every coordinator function the way SST 3 bundles a Node.js function for deployment
 * (its `pkg/runtime/node/build.go` with the defaults of `sst.aws.Function`'s `nodejs` options):
 * esbuild, one ESM file per handler (`.mjs`), platform node, target esnext, main fields
 * `module,main`, names kept, minified, no source map, `sharp` and `pg-native` external, and SST's
 * banner that gives ESM code `require`, `__filename` and `__dirname`. Each function gets its own
 * folder, laid out as Lambda's `/var/task`: the bundle at the handler's path (so the handler string
 * in `infra/functions.ts` names it) and, once the harness or SST adds it, `resource.enc`.
 *
 * `npm run build:lambda` writes `.build/lambda/` and prints each bundle's size.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { FUNCTIONS, type FunctionName } from "../infra/functions.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** SST's banner for ESM bundles, line for line. */
const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  "",
].join("\n");

/** SST marks these external whatever the function says. */
const SST_EXTERNAL = ["sharp", "pg-native"];

export interface BuiltFunction {
  readonly name: string;
  /** The folder Lambda would unpack as `/var/task`. */
  readonly dir: string;
  /** The bundle's path under `dir`. */
  readonly file: string;
  /** The exported handler's name. */
  readonly exportName: string;
  readonly bytes: number;
}

/** Where a handler string (`path/to/file.export`) puts its bundle and which export it calls. */
export function handlerParts(handler: string): { source: string; bundle: string; exportName: string } {
  const dot = handler.lastIndexOf(".");
  const path = handler.slice(0, dot);
  return { source: `${path}.ts`, bundle: `${path}.mjs`, exportName: handler.slice(dot + 1) };
}

/** Bundles one handler (a `path/to/file.export` string, the source relative to `root`) into `dir`. */
export async function bundleHandler(handler: string, dir: string, root = ROOT): Promise<BuiltFunction> {
  const { source, bundle, exportName } = handlerParts(handler);
  const outfile = join(dir, bundle);
  const result = await build({
    entryPoints: [join(root, source)],
    platform: "node",
    external: SST_EXTERNAL,
    keepNames: true,
    bundle: true,
    metafile: true,
    outfile,
    sourcemap: false,
    write: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    banner: { js: SST_BANNER },
    minify: true,
    logLevel: "silent",
  });
  if (result.errors.length > 0) throw new Error(`bundling ${handler} failed: ${result.errors.map((e) => e.text).join("; ")}`);
  return { name: handler, dir, file: bundle, exportName, bytes: (await stat(outfile)).size };
}

/** Bundles every function of `infra/functions.ts` into `outDir/{Name}/`, replacing what was there. */
export async function buildLambdas(outDir: string): Promise<Record<FunctionName, BuiltFunction>> {
  await rm(outDir, { recursive: true, force: true });
  const entries = await Promise.all(
    (Object.keys(FUNCTIONS) as FunctionName[]).map(async (name) => {
      const dir = join(outDir, name);
      await mkdir(dir, { recursive: true });
      return [name, { ...(await bundleHandler(FUNCTIONS[name].handler, dir)), name }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<FunctionName, BuiltFunction>;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = join(ROOT, ".build", "lambda");
  const built = await buildLambdas(outDir);
  for (const f of Object.values(built)) console.log(`${f.name.padEnd(12)} ${join(f.dir, f.file).slice(ROOT.length + 1).padEnd(60)} ${(f.bytes / 1024).toFixed(0).padStart(6)} KiB`);
}
