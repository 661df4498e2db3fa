import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportCommand, exportSpec } from "./export-command.ts";
import { memoryIo, parseFlags } from "./flags.ts";
import { usageOf } from "../../test/support/cli.ts";

const usage = (argv: string[]) => usageOf(exportSpec, argv);

describe("consilium site export", () => {
  it("takes --out and defaults the state dir to the site's", () => {
    expect(parseFlags(exportSpec, ["--out", "model"])).toEqual({ "state-dir": ".consilium/site", out: "model" });
    expect(parseFlags(exportSpec, ["--state-dir", "s", "--out", "model"])).toEqual({ "state-dir": "s", out: "model" });
  });

  it("refuses missing and unknown flags with one line naming the flag", () => {
    expect(usage([])).toBe("--out: required");
    expect(usage(["--out", ""])).toBe("--out: must not be empty");
    expect(usage(["--out", "m", "--data", "x"])).toBe("unknown flag --data");
  });

  it("says so when the state dir holds no personal model", async () => {
    const dir = await mkdtemp(join(tmpdir(), "consilium-export-"));
    try {
      await expect(exportCommand(["--state-dir", dir, "--out", join(dir, "out")], { io: memoryIo() })).rejects.toThrow(
        `no personal model in ${dir}: run consilium site until the federation finishes first`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
