import { describe, expect, it } from "vitest";
import { z } from "zod";
import { boolFlag, flagTable, fractionFlag, HelpRequested, helpText, intFlag, parseFlags, textFlag, type CommandSpec } from "./flags.ts";
import { usageOf } from "../../test/support/cli.ts";

const Demo = z.object({ port: intFlag(0, 10).default(5), token: textFlag(), share: fractionFlag().optional(), loud: boolFlag() });
const demo: CommandSpec<typeof Demo> = {
  name: "demo",
  summary: "A command for tests.",
  schema: Demo,
  flags: {
    port: { type: "string", value: "N", help: "a port (default 5)" },
    token: { type: "string", value: "T", env: "DEMO_TOKEN", secret: true, help: "a secret" },
    share: { type: "string", value: "F", help: "a fraction" },
    loud: { type: "boolean", help: "be loud" },
  },
};

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(demo, argv, env);

describe("parseFlags", () => {
  it("parses flags through the schema, with defaults", () => {
    // Execute
    const flags = parseFlags(demo, ["--token", "t0p", "--share", "0.25", "--loud"]);
    // Assert
    expect(flags).toEqual({ port: 5, token: "t0p", share: 0.25, loud: true });
  });

  it("falls back to the environment, and a flag beats it", () => {
    expect(parseFlags(demo, [], { DEMO_TOKEN: "from-env" }).token).toBe("from-env");
    expect(parseFlags(demo, ["--token", "flag"], { DEMO_TOKEN: "from-env" }).token).toBe("flag");
  });

  it("warns when a secret is given on the command line, where every user of the machine can read it", () => {
    const warnings: string[] = [];
    parseFlags(demo, ["--token", "t0p"], {}, (line) => void warnings.push(line));
    parseFlags(demo, [], { DEMO_TOKEN: "from-env" }, (line) => void warnings.push(line));
    expect(warnings).toEqual(["--token on the command line is readable by every user of this machine; set DEMO_TOKEN instead"]);
  });

  it("names the flag and the value it refused", () => {
    expect(usage(["--token", "t", "--port", "11"])).toBe('--port: expected a whole number from 0 to 10 (got "11")');
    expect(usage(["--token", "t", "--port", "2.5"])).toBe('--port: expected a whole number from 0 to 10 (got "2.5")');
    expect(usage(["--token", "t", "--share", "1"])).toBe('--share: expected a number between 0 and 1, exclusive (got "1")');
    expect(usage(["--token", "t", "--share", "half"])).toBe('--share: expected a number between 0 and 1, exclusive (got "half")');
  });

  it("names the environment variable when the value came from there, and never echoes a secret", () => {
    expect(usage([])).toBe("--token (or DEMO_TOKEN): required");
    expect(usage(["--token", ""])).toBe("--token: must not be empty");
    expect(usage([], { DEMO_TOKEN: "" })).toBe("--token (or DEMO_TOKEN): required");
  });

  it("turns syntax errors into one short line", () => {
    expect(usage(["--prot", "1"])).toBe("unknown flag --prot");
    expect(usage(["-x"])).toBe("unknown flag -x");
    expect(usage(["--token"])).toBe("--token: needs a value");
    expect(usage(["--port", "--loud"])).toBe('--port: needs a value (write --port=VALUE for a value that starts with "-")');
    expect(usage(["--loud=yes"])).toBe("--loud: takes no value");
    expect(usage(["--token", "t", "extra"])).toBe('unexpected argument "extra"');
  });

  it("answers --help and -h with the help text", () => {
    for (const flag of ["--help", "-h"]) {
      expect(() => parseFlags(demo, ["--port", "bad", flag])).toThrow(HelpRequested);
    }
  });
});

describe("helpText and flagTable", () => {
  it("lists every flag with its placeholder and environment variable", () => {
    expect(helpText(demo)).toBe(
      [
        "usage: consilium demo [flags]",
        "",
        "A command for tests.",
        "",
        "flags:",
        "  --port N    a port (default 5)",
        "  --token T   a secret [env DEMO_TOKEN]",
        "  --share F   a fraction",
        "  --loud      be loud",
        "  -h, --help  show this help",
      ].join("\n"),
    );
  });

  it("renders a markdown table", () => {
    expect(flagTable(demo).split("\n")).toEqual([
      "| flag | env | meaning |",
      "|---|---|---|",
      "| `--port N` |  | a port (default 5) |",
      "| `--token T` | `DEMO_TOKEN` | a secret |",
      "| `--share F` |  | a fraction |",
      "| `--loud` |  | be loud |",
    ]);
  });
});
