import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { main } from "../main.ts";
import { memoryIo } from "./flags.ts";

describe("consilium (main)", () => {
  it("lists every command, exiting 2 without one and 0 when asked", async () => {
    const bare = memoryIo();
    const asked = memoryIo();
    expect(await main([], bare)).toBe(2);
    expect(await main(["--help"], asked)).toBe(0);
    for (const command of ["simulate", "coordinator", "enrol", "site", "site export", "site predict", "site serve", "federation init", "models"]) expect(asked.outLines[0]).toContain(`\n  ${command}`);
    expect(bare.outLines).toEqual(asked.outLines);
  });

  it("prints each command's flags for --help", async () => {
    for (const [argv, first] of [
      [["simulate", "--help"], "usage: consilium simulate [flags]"],
      [["coordinator", "-h"], "usage: consilium coordinator [flags]"],
      [["enrol", "--help"], "usage: consilium enrol [flags]"],
      [["site", "--help"], "usage: consilium site [flags]"],
      [["site", "export", "--help"], "usage: consilium site export [flags]"],
      [["federation", "init", "--help"], "usage: consilium federation init [flags]"],
    ] as const) {
      const io = memoryIo();
      expect(await main([...argv], io)).toBe(0);
      expect(io.outLines[0]?.split("\n")[0]).toBe(first);
      expect(io.outLines[0]).toContain("-h, --help");
    }
  });

  it("turns usage errors into one line naming the command and flag, and exit code 2", async () => {
    for (const [argv, line] of [
      [["coordinator", "--port", "x"], 'consilium coordinator: --port: expected a whole number from 0 to 65535 (got "x")'],
      [["enrol", "--coordinator", "http://127.0.0.1:8787", "--name", "A"], "consilium enrol: --admin-token (or CONSILIUM_ADMIN_TOKEN): required"],
      [["site", "--coordinator", "http://127.0.0.1:8787", "--token", "cs_a_b"], "consilium site: give exactly one of --data FILE.csv, --fhir DIR or --dataset-site NAME:SITE"],
      [["site", "export"], "consilium site export: --out: required"],
      [["simulate", "--dataset", "wdbc", "--sites", "0"], 'consilium simulate: --sites: Too small: expected number to be >=1 (got "0")'],
      [["simulate", "--sites", "3"], "consilium simulate: give exactly one of --dataset NAME, --data FILE.csv, --images DIR or --fhir DIR"],
      [["simulate", "--dataset", "wdbc", "--bogus"], "consilium simulate: unknown flag --bogus"],
    ] as const) {
      const io = memoryIo();
      expect(await main([...argv], io)).toBe(2);
      expect(io.errLines).toEqual([line]);
    }
  });

  it("refuses an unknown command with the usage text", async () => {
    const io = memoryIo();
    expect(await main(["coordinate"], io)).toBe(2);
    expect(io.errLines[0]).toMatch(/^consilium: unknown command "coordinate"\nusage: consilium <command> \[flags\]/);
  });

  it("prints its version from package.json for --version, -V and version", async () => {
    // Prepare
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

    // Execute
    const ios = await Promise.all(["--version", "-V", "version"].map(async (flag) => {
      const io = memoryIo();
      return { code: await main([flag], io), io };
    }));

    // Assert
    for (const { code, io } of ios) {
      expect(code).toBe(0);
      expect(io.outLines).toEqual([`consilium ${version}`]);
    }
  });

  it("names the federation subcommand it expects", async () => {
    // Execute
    const bare = memoryIo();
    const unknown = memoryIo();
    const codes = [await main(["federation"], bare), await main(["federation", "start"], unknown)];

    // Assert
    expect(codes).toEqual([2, 2]);
    expect(bare.errLines).toEqual(["consilium federation: expected a subcommand: consilium federation init|create"]);
    expect(unknown.errLines).toEqual(['consilium federation: unknown subcommand "start" (known: init, create)']);
  });
});
