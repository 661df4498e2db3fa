import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo, UsageError } from "../cli/commands/flags.ts";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import type { Report } from "../core/schemas/report.ts";
import { loadDigits } from "../gpu-runner/data/builtin-datasets.ts";
import { loadImageFolder } from "../gpu-runner/data/image-folder.ts";

/** A PNG of `width × height` from grey levels (or RGB triples), as an imaging system writes one. */
function png(width: number, height: number, pixel: (i: number) => [number, number, number]): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = pixel(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  return PNG.sync.write(image);
}

/** The digits 0, 1 and 7 as a hospital's folder of 8×8 grey PNGs (grey levels 0–16 scaled to 0–240) with labels.csv. */
async function digitsFolder(dir: string, count: number): Promise<void> {
  const table = await loadDigits();
  const names = new Map([["0", "zero"], ["1", "one"], ["7", "seven"]]);
  const kept = table.rows.filter((r) => names.has(r[64]!)).slice(0, count);
  await mkdir(join(dir, "scans"), { recursive: true });
  const lines = ["file,label"];
  for (const [i, row] of kept.entries()) {
    const file = `scans/img-${i}.png`;
    await writeFile(join(dir, file), png(8, 8, (p) => Array(3).fill(Number(row[p]) * 15) as [number, number, number]));
    lines.push(`${file},${names.get(row[64]!)}`);
  }
  await writeFile(join(dir, "labels.csv"), `${lines.join("\n")}\n`);
}

describe("a folder of PNG images with a labels CSV", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-images-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("decodes each image into a row of pixels (grey: one channel; colour: three), row-major, with its label", async () => {
    const folder = join(dir, "small");
    await mkdir(folder);
    await writeFile(join(folder, "a.png"), png(3, 2, (i) => [i * 10, i * 10, i * 10]));
    await writeFile(join(folder, "b.png"), png(3, 2, (i) => [i, 2 * i, 3 * i]));
    await writeFile(join(folder, "labels.csv"), "file,label\na.png,yes\nb.png,no\n");
    const read = await loadImageFolder(folder);
    // b.png has colour: the folder is read as colour, a.png's grey pixels as three equal channels.
    expect(read.shape).toEqual([2, 3, 3]);
    expect(read.table.columns.slice(0, 4)).toEqual(["p0_0_r", "p0_0_g", "p0_0_b", "p0_1_r"]);
    expect(read.table.columns.at(-1)).toBe("label");
    expect(read.table.rows[1]!.slice(-4)).toEqual(["5", "10", "15", "no"]);
    expect(read.table.rows[0]!.slice(3, 6)).toEqual(["10", "10", "10"]);
  });

  it("refuses an image of another size, a file that is not a PNG, and a path outside the folder, naming the file", async () => {
    const folder = join(dir, "bad");
    await mkdir(folder);
    await writeFile(join(folder, "a.png"), png(4, 4, () => [0, 0, 0]));
    await writeFile(join(folder, "b.png"), png(5, 4, () => [0, 0, 0]));
    await writeFile(join(folder, "c.png"), "not an image");
    const labels = async (text: string) => {
      await writeFile(join(folder, "labels.csv"), text);
      return loadImageFolder(folder);
    };
    await expect(labels("file,label\na.png,1\nb.png,0\n")).rejects.toThrow("b.png is 5×4, a.png 4×4: every image must have the same size");
    await expect(labels("file,label\nc.png,1\n")).rejects.toThrow(/^c\.png: not a readable PNG image/);
    await expect(labels("file,label\n../a.png,1\n")).rejects.toThrow(/"\.\.\/a\.png" is not a file inside/);
  });

  it("trains a CNN of the images end to end in simulate, the label's values as classes", async () => {
    // Prepare
    const folder = join(dir, "digits");
    await digitsFolder(folder, 240);
    const io = memoryIo();

    // Execute
    const report = (await simulateCommand(["--images", folder, "--classes", "auto", "--model", "cnn:8x8x1:4", "--sites", "3", "--rounds", "5", "--lr", "0.1", "--quiet"], io)) as Report;

    // Assert
    expect(report.data?.notes[0]).toBe("images digits: 240 PNG files of 8×8 pixels, grey (1 channel): a model reads them as cnn:8x8x1:…");
    expect(report.runs[0]!.classes!.names).toEqual(["one", "seven", "zero"]);
    expect(report.runs[0]!.classes!.global.accuracy).toBeGreaterThan(0.9);
    await expect(simulateCommand(["--images", folder, "--classes", "auto", "--model", "cnn:8x8x3:4", "--quiet"], memoryIo())).rejects.toThrow(UsageError);
    await expect(simulateCommand(["--images", folder, "--classes", "auto", "--model", "cnn:8x8x3:4", "--quiet"], memoryIo())).rejects.toThrow("--model: the model cnn:8x8x3:4 takes 8×8×3 = 192 inputs, the features make 64");
  }, 180_000);
});
