import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLI_DOCS_PATH, cliDocsProblem, COMMAND_SPECS, renderCliDocs } from "../scripts/cli-docs.ts";
import { FLAG_COMBINATIONS } from "./flag-combinations.ts";

const onDisk = () => readFile(new URL(`../${CLI_DOCS_PATH}`, import.meta.url), "utf8");

describe("docs/cli.md", () => {
  it("is what renderCliDocs() writes from the command specs", async () => {
    // Prepare
    const text = await onDisk();

    // Execute
    const problem = cliDocsProblem(text);

    // Assert
    expect(problem, `${CLI_DOCS_PATH} differs from the command specs: run \`npm run docs:cli\``).toBeNull();
  });

  it("names the fix when the file differs", () => {
    expect(cliDocsProblem(`${renderCliDocs()}edited by hand\n`)).toBe("docs/cli.md differs from the command specs: run `npm run docs:cli`");
  });
});

describe("renderCliDocs", () => {
  it("lists every flag of every command with its environment variable", () => {
    const sections = renderCliDocs().split("\n## ");

    for (const spec of COMMAND_SPECS) {
      const rows = (sections.find((s) => s.startsWith(`consilium ${spec.name}\n`)) ?? "").split("\n");
      expect(rows.length, `section of consilium ${spec.name}`).toBeGreaterThan(1);
      for (const [name, flag] of Object.entries(spec.flags)) {
        const row = rows.find((line) => line.startsWith(`| \`--${name}\``) || line.startsWith(`| \`--${name} `));
        expect(row, `--${name} of consilium ${spec.name}`).toBeDefined();
        if (flag.env) expect(row).toContain(`| \`${flag.env}\` |`);
      }
    }
  });

  it("renders every flag combination in its own section", () => {
    const section = renderCliDocs().split("## Flags that compose\n")[1] ?? "";

    expect(FLAG_COMBINATIONS.length).toBeGreaterThan(0);
    for (const c of FLAG_COMBINATIONS) expect(section).toContain(`| \`${c.flags.replaceAll("|", "\\|")}\` |`);
  });

  it("lists only combinations of flags the commands have", () => {
    const known = new Map(COMMAND_SPECS.map((s) => [s.name, new Set(Object.keys(s.flags))]));

    for (const c of FLAG_COMBINATIONS) {
      const command = c.flags.split(" ")[0] ?? "";
      const flags = known.get(command);
      expect(flags, `"${c.flags}" starts with a command`).toBeDefined();
      for (const [, name] of c.flags.matchAll(/(?:^|\s)--([a-z0-9-]+)/g)) expect(flags?.has(name ?? ""), `--${name} in "${c.flags}"`).toBe(true);
    }
  });
});
