/**
 * @module
 * A hospital's own images as rows: a folder of PNG files and a labels CSV naming each file and its
 * label. Every image is decoded (pngjs) and becomes one row of pixel columns, row-major and channels
 * last (`p{row}_{col}` for grey images, `p{row}_{col}_{r|g|b}` for colour), then the label: the
 * table a `cnn:HxWxC:…` model reads. Every image must have the same size; a colour image with every
 * pixel grey counts as grey; an alpha channel is dropped (a transparent pixel keeps its colour).
 */
import { readFile } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import { PNG } from "pngjs";
import { columnIndex, type Table } from "../../core/preprocess/table.ts";
import { readCsv } from "./read-csv.ts";

export interface ImageFolder {
  /** One row per labelled image: its pixel columns, then the label column (named as in the labels CSV). */
  readonly table: Table;
  /** [height, width, channels]. */
  readonly shape: readonly [number, number, number];
  readonly notes: readonly string[];
}

/** Most images one folder may hold: a bound on what is decoded into memory. */
export const MAX_IMAGES = 200_000;

/**
 * Reads `dir`'s labels CSV (`labels`, default `labels.csv`; columns `file` and `label` unless
 * named) and decodes each image it names, relative to `dir` and never outside it.
 * @throws Error naming the file: not a PNG, another size than the first image, outside the folder, missing.
 */
export async function loadImageFolder(dir: string, o: { readonly labels?: string; readonly fileColumn?: string; readonly labelColumn?: string } = {}): Promise<ImageFolder> {
  const root = resolve(dir);
  const labels = await readCsv(join(root, o.labels ?? "labels.csv"));
  const fileCol = columnIndex(labels, o.fileColumn ?? "file");
  const labelName = o.labelColumn ?? "label";
  const labelCol = columnIndex(labels, labelName);
  if (labels.rows.length > MAX_IMAGES) throw new Error(`${labels.rows.length} images listed, at most ${MAX_IMAGES}`);
  const images: { pixels: Uint8Array; label: string }[] = [];
  let size: { width: number; height: number; file: string } | null = null;
  let colour = false;
  for (const row of labels.rows) {
    const name = (row[fileCol] ?? "").trim();
    const path = resolve(root, name);
    if (name === "" || !path.startsWith(root + sep)) throw new Error(`labels: "${name}" is not a file inside ${root}`);
    let png: PNG;
    try {
      png = PNG.sync.read(await readFile(path));
    } catch (err) {
      throw new Error(`${name}: not a readable PNG image (${(err as Error).message})`);
    }
    size ??= { width: png.width, height: png.height, file: name };
    if (png.width !== size.width || png.height !== size.height) throw new Error(`${name} is ${png.width}×${png.height}, ${size.file} ${size.width}×${size.height}: every image must have the same size`);
    const rgba = png.data;
    for (let i = 0; i < rgba.length && !colour; i += 4) colour = rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2];
    images.push({ pixels: Uint8Array.from(rgba), label: row[labelCol] ?? "" });
  }
  if (!size) throw new Error(`labels: no image listed in ${o.labels ?? "labels.csv"}`);
  const channels = colour ? 3 : 1;
  const columns: string[] = [];
  for (let r = 0; r < size.height; r++) {
    for (let c = 0; c < size.width; c++) {
      if (colour) for (const ch of ["r", "g", "b"]) columns.push(`p${r}_${c}_${ch}`);
      else columns.push(`p${r}_${c}`);
    }
  }
  const rows = images.map(({ pixels, label }) => {
    const out: string[] = [];
    for (let p = 0; p < size.width * size.height; p++) {
      if (colour) out.push(String(pixels[4 * p]), String(pixels[4 * p + 1]), String(pixels[4 * p + 2]));
      else out.push(String(pixels[4 * p]));
    }
    out.push(label);
    return out;
  });
  const notes = [`images ${basename(root)}: ${images.length} PNG files of ${size.height}×${size.width} pixels, ${colour ? "colour (3 channels)" : "grey (1 channel)"}: a model reads them as cnn:${size.height}x${size.width}x${channels}:…`];
  return { table: { columns: [...columns, labelName], rows }, shape: [size.height, size.width, channels], notes };
}
