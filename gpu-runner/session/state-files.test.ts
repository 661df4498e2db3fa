import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureStateDir, sweepPartials, writeStateFile } from "./state-files.ts";

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("a site's state folder", () => {
  let root: string;
  beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), "consilium-state-"))));
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("is owner-only, and so is every file in it, even where the folder was made open before", async () => {
    // Prepare
    const dir = join(root, "open");
    await mkdir(dir, { mode: 0o755 });
    // Execute
    await ensureStateDir(dir);
    await writeStateFile(dir, "a.json", "{}");
    await writeStateFile(dir, "a.json", '{"again":true}');
    // Assert
    expect([await mode(dir), await mode(join(dir, "a.json"))]).toEqual([0o700, 0o600]);
    expect(await readFile(join(dir, "a.json"), "utf8")).toBe('{"again":true}');
    // Nothing is left beside it.
    expect(await readdir(dir)).toEqual(["a.json"]);
  });

  it("leaves the old file or the new one whole when the writer is killed at any moment, and sweeps what it left beside", async () => {
    // Prepare: a process writing 1 MiB files, each of one repeated byte, as fast as it can.
    const dir = join(root, "killed");
    const script = `import { writeStateFile } from ${JSON.stringify(new URL("./state-files.ts", import.meta.url).href)};
      for (let i = 1; ; i++) { await writeStateFile(${JSON.stringify(dir)}, "big.bin", new Uint8Array(1 << 20).fill(i % 256)); if (i === 1) process.stdout.write("ready\\n"); }`;
    const outcomes: string[] = [];
    for (let k = 0; k < 5; k++) {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      // Execute: killed after a few more writes, at whatever point of one it is.
      await new Promise((r) => setTimeout(r, 20 + 15 * k));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      // Assert: the file is some write's whole contents.
      const bytes = await readFile(join(dir, "big.bin"));
      outcomes.push(bytes.length === 1 << 20 && bytes.every((b) => b === bytes[0]) ? "whole" : "torn");
      await sweepPartials(dir);
      expect((await readdir(dir)).filter((n) => n !== "big.bin")).toEqual([]);
    }
    expect(outcomes).toEqual(Array(5).fill("whole"));
  });

  it("sweeps what a lock taker killed half-way left beside the lock, and never the lock", async () => {
    // Prepare
    const dir = join(root, "locked");
    await ensureStateDir(dir);
    await writeStateFile(dir, "lock", '{"pid":1,"token":"t"}');
    await writeStateFile(dir, ".lock.4242.0a1b2c3d.partial", "{");
    // Execute
    const swept = await sweepPartials(dir);
    // Assert
    expect([swept, await readdir(dir)]).toEqual([1, ["lock"]]);
  });

});
