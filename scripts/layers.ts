/**
 * @module
 * The layering of the repository, checked over its import graph. `RULES` below is the single
 * source of the layers; `npx tsx scripts/layers.ts [root]` prints each violation as
 * `from -> to: rule` and exits 1 if there is any.
 *
 * - Production code (non-test files in core/, client/, functions/, gpu-runner/, cli/) never
 *   imports a test file (`*.test.ts`) or anything under test/; test helpers live under test/.
 * - core/ imports nothing outside core/ (npm packages are fine; of node's built-ins, node:crypto only).
 * - client/ imports only core/ at run time; its types may also come from functions/routes/ and
 *   functions/app.ts (Hono's typed RPC client), and from nowhere else.
 * - functions/ imports only core/ and client/.
 * - gpu-runner/ imports only core/ and client/.
 * - cli/ imports anything but bench/, test/ and scripts/.
 * - infra/ and sst.config.ts import only infra/ and functions/handlers/.
 * - Test files (`*.test.ts`), test/, bench/, scripts/ and bin/ may import anything.
 *
 * An import is a relative `import` or `export … from`, a dynamic `import("…")`, `require("…")`,
 * `import x = require("…")`, `import.meta.resolve("…")`, a
 * `new URL("…", import.meta.url)` naming a script (worker entries), or an SST
 * `handler: "functions/handlers/x.handler"` path. Only `import type`, `export type` and
 * `typeof import("…")` are type-only: under `verbatimModuleSyntax` an import whose every
 * specifier is `type` still loads its module (`import {} from "…"`), so it counts as a runtime
 * import. An import is reported once, under the first rule it breaks.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

/** Repository paths: `dir/` covers a folder, `*.ext` a file suffix, anything else one file. */
type Paths = readonly string[];

export interface Rule {
  /** The files the rule governs; test files are never governed. */
  readonly files: Paths;
  /** Runtime imports must reach one of these (when given)… */
  readonly allow?: Paths;
  /** …and none of these (when given). */
  readonly deny?: Paths;
  /** Type-only imports must reach one of these; `allow` (and `deny`) when absent. */
  readonly allowTypes?: Paths;
  /** The `node:` built-ins the files may import; any when absent. */
  readonly builtins?: readonly string[];
  readonly rule: string;
}

const TESTS: Paths = ["test/", "*.test.ts"];
const PRODUCTION: Paths = ["core/", "client/", "functions/", "gpu-runner/", "cli/"];

export const RULES: readonly Rule[] = [
  { files: PRODUCTION, deny: TESTS, rule: "production code never imports a test file or test/" },
  { files: ["core/"], allow: ["core/"], builtins: ["node:crypto"], rule: "core/ imports nothing outside core/ (of node's built-ins, node:crypto only)" },
  {
    files: ["client/"],
    allow: ["client/", "core/"],
    allowTypes: ["client/", "core/", "functions/routes/", "functions/app.ts"],
    rule: "client/ imports only core/ at run time, types also from functions/routes/ and functions/app.ts",
  },
  { files: ["functions/"], allow: ["functions/", "core/", "client/"], rule: "functions/ imports only core/ and client/" },
  { files: ["gpu-runner/"], allow: ["gpu-runner/", "core/", "client/"], rule: "gpu-runner/ imports only core/ and client/" },
  { files: ["cli/"], deny: ["bench/", "test/", "scripts/"], rule: "cli/ imports anything but bench/, test/ and scripts/" },
  { files: ["infra/", "sst.config.ts"], allow: ["infra/", "functions/handlers/"], rule: "infra/ and sst.config.ts import only infra/ and functions/handlers/" },
];

export interface Import {
  /** Repository path of the imported file (as written when it does not exist), or a `node:` built-in. */
  readonly to: string;
  readonly typeOnly: boolean;
}

export interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: string;
}

const SKIPPED_DIRS = new Set(["node_modules", ".sst", ".git"]);
const SCRIPT = /\.(?:[cm]?[jt]s|tsx)$/;
const EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"];

const matches = (path: string, paths: Paths): boolean =>
  paths.some((p) => (p.endsWith("/") ? path.startsWith(p) : p.startsWith("*") ? path.endsWith(p.slice(1)) : path === p));

function breaks(rule: Rule, { to, typeOnly }: Import): boolean {
  if (to.startsWith("node:")) return rule.builtins !== undefined && !rule.builtins.includes(to);
  const allow = typeOnly ? (rule.allowTypes ?? rule.allow) : rule.allow;
  return (allow !== undefined && !matches(to, allow)) || (rule.deny !== undefined && matches(to, rule.deny));
}

const isFile = (root: string, path: string): boolean => statSync(join(root, path), { throwIfNoEntry: false })?.isFile() ?? false;

/** Resolves a repository path the way tsx and SST do: as written, `.js` for `.ts`, an extension, an index file. */
function resolveModule(root: string, path: string): string {
  const candidates = [
    path,
    path.replace(/\.([cm]?)js$/, ".$1ts"),
    ...EXTENSIONS.map((ext) => path + ext),
    ...EXTENSIONS.map((ext) => `${path}/index${ext}`),
  ];
  return candidates.find((c) => isFile(root, c)) ?? path;
}

const literal = (node: ts.Node | undefined): string | undefined =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;

const isImportMetaUrl = (node: ts.Node | undefined): boolean =>
  node !== undefined && ts.isPropertyAccessExpression(node) && ts.isMetaProperty(node.expression) && node.name.text === "url";

const isImportMetaResolve = (node: ts.Node): boolean =>
  ts.isPropertyAccessExpression(node) && ts.isMetaProperty(node.expression) && node.name.text === "resolve";

/** The relative imports of one file (`file` and the results are repository paths). */
export function importsOf(root: string, file: string, text: string): Import[] {
  const found: Import[] = [];
  const relativeTo = (spec: string | undefined, typeOnly: boolean, scriptsOnly = false): void => {
    if (spec?.startsWith("node:")) found.push({ to: spec, typeOnly });
    if (spec === undefined || !(spec.startsWith("./") || spec.startsWith("../"))) return;
    const to = resolveModule(root, posix.normalize(posix.join(posix.dirname(file), spec)));
    if (!scriptsOnly || (SCRIPT.test(to) && isFile(root, to))) found.push({ to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      relativeTo(literal(node.moduleSpecifier), node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node)) {
      relativeTo(literal(node.moduleSpecifier), node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      relativeTo(literal(node.argument.literal), true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      relativeTo(literal(node.moduleReference.expression), node.isTypeOnly);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require") || isImportMetaResolve(node.expression))) {
      relativeTo(literal(node.arguments[0]), false);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "URL" && isImportMetaUrl(node.arguments?.[1])) {
      relativeTo(literal(node.arguments?.[0]), false, true);
    } else if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === "handler") {
      // SST bundles `handler: "functions/handlers/api.handler"` by path, from the repository root.
      const handler = literal(node.initializer);
      if (handler?.includes("/")) found.push({ to: resolveModule(root, handler.replace(/\.[\w$]+$/, "")), typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest));
  return found;
}

/** Every script under `root` as a repository path, skipping node_modules, .sst and .git. */
export function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(root, path);
    return entry.isFile() && SCRIPT.test(entry.name) ? [relative(root, path).split(sep).join("/")] : [];
  });
}

/** The violations of `rules` in the repository at `root`, sorted and without duplicates. */
export function checkLayers(root: string, rules: readonly Rule[] = RULES): Violation[] {
  const seen = new Map<string, Violation>();
  for (const from of sourceFiles(root)) {
    if (matches(from, TESTS)) continue;
    const governing = rules.filter((r) => matches(from, r.files));
    if (governing.length === 0) continue;
    for (const imported of importsOf(root, from, readFileSync(join(root, from), "utf8"))) {
      const broken = governing.find((r) => breaks(r, imported));
      if (broken === undefined) continue;
      const violation = { from, to: imported.to, rule: broken.rule };
      seen.set(formatViolation(violation), violation);
    }
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export const formatViolation = (v: Violation): string => `${v.from} -> ${v.to}: ${v.rule}`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? ".");
  const violations = checkLayers(root);
  for (const v of violations) process.stdout.write(`${formatViolation(v)}\n`);
  process.stderr.write(violations.length === 0 ? `layers: no violations in ${root}\n` : `layers: ${violations.length} violation(s)\n`);
  process.exitCode = violations.length === 0 ? 0 : 1;
}
