import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureStateDir, writeStateFile } from "./state-files.ts";

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

  it("keeps the old file whole when a write fails part-way", async () => {
    // Prepare
    const dir = join(root, "failing");
    await writeStateFile(dir, "b.bin", "old");
    // Execute: a folder where the file should go makes the rename fail after the data was written.
    await mkdir(join(dir, "c.bin"));
    const failed = await writeStateFile(dir, "c.bin", "new").catch((err: unknown) => err);
    // Assert
    expect(failed).toBeInstanceOf(Error);
    expect(await readFile(join(dir, "b.bin"), "utf8")).toBe("old");
    expect((await readdir(dir)).sort()).toEqual(["b.bin", "c.bin"]);
  });
});
