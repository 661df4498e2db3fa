import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDelimiter, parseCsv, parseCsvText, readCsv, readCsvFile, readCsvHeader, readingNotes } from "./read-csv.ts";

describe("parseCsv", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks", () => {
    // Prepare
    const text = 'id,note,ward\n1,"fever, cough","A"\n2,"said ""ok""",B\n3,"two\nlines",C\n';

    // Execute
    const table = parseCsv(text);

    // Assert
    expect(table).toEqual({
      columns: ["id", "note", "ward"],
      rows: [["1", "fever, cough", "A"], ["2", 'said "ok"', "B"], ["3", "two\nlines", "C"]],
    });
  });

  it("drops a byte-order mark, skips empty lines, accepts CRLF and trims unquoted cells only", () => {
    // Prepare
    const text = "\uFEFFage,ward\r\n\r\n 61 , A\r\n\n70,\" B \"\r\n\r\n";

    // Execute
    const table = parseCsv(text);

    // Assert
    expect(table).toEqual({ columns: ["age", "ward"], rows: [["61", "A"], ["70", " B "]] });
  });

  it("takes column names for a file without a header row", () => {
    // Execute
    const table = parseCsv("61,A\n70,B\n", { columns: ["age", "ward"] });

    // Assert
    expect(table).toEqual({ columns: ["age", "ward"], rows: [["61", "A"], ["70", "B"]] });
  });

  it("names the file line of a ragged row, counting the header and empty lines", () => {
    // Prepare
    const text = "a,b,c\n1,2,3\n\n4,5\n6,7,8\n";

    // Execute
    const parse = () => parseCsv(text);

    // Assert
    expect(parse).toThrow("line 4 has 2 fields where the header has 3; the delimiter was taken to be comma from the header row (force one with --delimiter comma|semicolon|tab)");
  });

  it("names the row whose width does not match the given column names", () => {
    // Execute
    const parse = () => parseCsv("1,2,3\n4,5,6\n", { columns: ["a", "b"] });

    // Assert
    expect(parse).toThrow("line 1 has 3 fields where 2 columns are named");
  });

  it("refuses text without columns", () => {
    // Execute
    const parse = () => parseCsv("\n\n");

    // Assert
    expect(parse).toThrow("the file is empty: no header row");
  });
});

describe("readCsv", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-read-csv-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads a gzip-compressed file as its text", async () => {
    // Prepare
    const text = 'age,ward,outcome\n61,"A, east",1\n70,B,0\n';
    const file = join(dir, "sites.csv.gz");
    await writeFile(file, gzipSync(Buffer.from(text, "utf8")));

    // Execute
    const table = await readCsv(file);

    // Assert
    expect(table).toEqual(parseCsv(text));
    expect(table.rows).toHaveLength(2);
  });

  it("puts the path in front of a parse error", async () => {
    // Prepare
    const file = join(dir, "ragged.csv");
    await writeFile(file, "a,b\n1,2\n3\n");

    // Execute
    const read = readCsv(file);

    // Assert
    await expect(read).rejects.toThrow(`${file}: line 3 has 1 field where the header has 2`);
  });

  it("recognises gzip by its bytes, whatever the file is called", async () => {
    // Prepare
    const file = join(dir, "export.csv");
    await writeFile(file, gzipSync(Buffer.from("age,outcome\n61,1\n70,0\n", "utf8")));

    // Execute
    const csv = await readCsvFile(file);

    // Assert
    expect(csv.gzip).toBe(true);
    expect(csv.table.rows).toEqual([["61", "1"], ["70", "0"]]);
    expect(readingNotes("export.csv", csv)).toEqual(["export.csv: gzip-compressed"]);
  });

  it("refuses binary bytes and zip archives with what to do, instead of printing them", async () => {
    // Prepare
    const binary = join(dir, "model.bin");
    await writeFile(binary, Buffer.from([0x01, 0x00, 0x02, 0x03, 0xff, 0x00]));
    const xlsx = join(dir, "sheet.csv");
    await writeFile(xlsx, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]));

    // Execute
    const readBinary = await readCsv(binary).catch((err: unknown) => err);
    const readZip = await readCsv(xlsx).catch((err: unknown) => err);

    // Assert
    expect((readBinary as Error).message).toBe(`${binary}: holds binary bytes, not text: is it a CSV file? (a compressed CSV must be gzip)`);
    expect((readZip as Error).message).toBe(`${xlsx}: is a zip archive (an .xlsx spreadsheet is one too): save or extract it as a .csv file`);
  });

  it("refuses a file, or a gzip file's text, past the size one file may hold, without reading it all", async () => {
    // Prepare: 4 KiB of text, and a gzip file that expands to 4 MiB.
    const plain = join(dir, "big.csv");
    await writeFile(plain, `a,b\n${"1,2\n".repeat(1024)}`);
    const bomb = join(dir, "bomb.csv.gz");
    await writeFile(bomb, gzipSync(Buffer.concat([Buffer.from("a,b\n"), Buffer.alloc(4 * 2 ** 20, "1,2\n")])));

    // Execute
    const tooBig = await readCsvFile(plain, { maxBytes: 1000 }).catch((err: unknown) => err);
    const expands = await readCsvFile(bomb, { maxBytes: 2 ** 20 }).catch((err: unknown) => err);
    const header = await readCsvHeader(bomb);

    // Assert
    expect(tooBig).toBeInstanceOf(Error);
    expect(expands).toBeInstanceOf(Error);
    expect((tooBig as Error).message).toBe(`${plain}: is 4100 bytes, more than the 1000 bytes one file may hold: split it into several files`);
    expect((expands as Error).message).toBe(`${bomb}: decompresses to more than the 1 MB one file may hold: split it into several files`);
    expect(header).toEqual({ columns: ["a", "b"], delimiter: "comma" });
  });

  it("reads a wide header quickly: 200,000 columns", async () => {
    // Prepare
    const wide = join(dir, "wide.csv");
    const names = Array.from({ length: 200_000 }, (_, i) => `c${i}`);
    await writeFile(wide, `${names.join(",")}\n${names.map(() => "1").join(",")}\n`);
    await writeFile(join(dir, "twice.csv"), `${[...names, "c7"].join(",")}\n`);

    // Execute
    const header = await readCsvHeader(wide);
    const twice = await readCsvHeader(join(dir, "twice.csv")).catch((err: unknown) => err);

    // Assert
    expect(header.columns).toHaveLength(200_000);
    expect((twice as Error).message).toBe(`${join(dir, "twice.csv")}: the header names column "c7" twice`);
  });

  it("reads text that is not UTF-8 as Windows-1252 and says so", async () => {
    // Prepare: "Zürich" in Latin-1.
    const file = join(dir, "latin1.csv");
    await writeFile(file, Buffer.concat([Buffer.from("city,outcome\nZ"), Buffer.from([0xfc]), Buffer.from("rich,1\nBern,0\n")]));

    // Execute
    const csv = await readCsvFile(file);

    // Assert
    expect(csv.table.rows[0]).toEqual(["Zürich", "1"]);
    expect(readingNotes("latin1.csv", csv)).toEqual(["latin1.csv: not UTF-8, read as Windows-1252"]);
  });
});

describe("parseCsvText: delimiters, decimal commas and units", () => {
  it("detects a semicolon file and reads its decimal commas as numbers", () => {
    // Prepare
    const text = "age;chol;ward\n61;5,2;A\n70;6,0;\"B; east\"\n";

    // Execute
    const csv = parseCsvText(text);

    // Assert
    expect(csv.delimiter).toBe("semicolon");
    expect(csv.decimalComma).toEqual(["chol"]);
    expect(csv.table.rows).toEqual([["61", "5.2", "A"], ["70", "6.0", "B; east"]]);
    expect(readingNotes("f.csv", { ...csv, gzip: false, latin1: false })).toEqual(["f.csv: semicolon-separated", "f.csv: decimal commas read as points in chol"]);
  });

  it("detects tabs, ignores delimiters inside quotes, and takes a forced delimiter", () => {
    // Execute
    const tab = detectDelimiter("age\tward\tnote\n1\tA\tx\n");
    const quoted = detectDelimiter('"a;b;c",d,e\n');
    const forced = parseCsvText("a;b\n1;2\n", { delimiter: "comma" });

    // Assert
    expect(tab).toBe("tab");
    expect(quoted).toBe("comma");
    expect(forced.table).toEqual({ columns: ["a;b"], rows: [["1;2"]] });
  });

  it("leaves commas in a comma file alone: a quoted 1,5 is not read as a number there", () => {
    // Execute
    const csv = parseCsvText('a,b\n"1,5",2\n"2,5",3\n');

    // Assert
    expect(csv.decimalComma).toEqual([]);
    expect(csv.table.rows).toEqual([["1,5", "2"], ["2,5", "3"]]);
    expect(Object.keys(csv.unreadable)).toEqual(["a"]);
  });

  it("reads numbers that carry one unit as numbers and records the unit", () => {
    // Prepare
    const text = "chol,weight,stage,outcome\n258 mg/dL,75kg,1a,1\n199 mg/dL,82.5kg,2b,0\nNA,?,1a,1\n";

    // Execute
    const csv = parseCsvText(text);

    // Assert
    expect(csv.units).toEqual({ chol: "mg/dL", weight: "kg" });
    expect(csv.table.rows).toEqual([["258", "75", "1a", "1"], ["199", "82.5", "2b", "0"], ["NA", "?", "1a", "1"]]);
    expect(readingNotes("f.csv", { ...csv, gzip: false, latin1: false })).toEqual([
      "f.csv: column chol carries the unit mg/dL in every value: read as numbers in mg/dL",
      "f.csv: column weight carries the unit kg in every value: read as numbers in kg",
    ]);
  });

  it("leaves a column whose numbers carry different units as text and names the units", () => {
    // Execute
    const csv = parseCsvText("chol,outcome\n258 mg/dL,1\n5.2 mmol/L,0\n");

    // Assert
    expect(csv.unreadable).toEqual({ chol: "its numbers carry different units (mg/dL, mmol/L)" });
    expect(csv.table.rows[0]).toEqual(["258 mg/dL", "1"]);
  });

  it("reads a column that is mostly numbers and leaves its stray cells as text for the caller to name", () => {
    // Execute: one "n/a" among decimal commas; one "pending" among numbers with a unit, one without it.
    const csv = parseCsvText("chol;crp\n5,2;12 mg/L\n6,1;pending\nn/a;3 mg/L\n4,8;7\n7,0;9 mg/L\n");

    // Assert
    expect(csv.decimalComma).toEqual(["chol"]);
    expect(csv.units).toEqual({ crp: "mg/L" });
    expect(csv.table.rows.map((r) => r.join("|"))).toEqual(["5.2|12", "6.1|pending", "n/a|3", "4.8|7", "7.0|9"]);
    expect(readingNotes("f.csv", { ...csv, gzip: false, latin1: false })).toContain("f.csv: column crp carries the unit mg/L in 3 of its 4 numbers (the others taken to be in mg/L too): read as numbers in mg/L");
  });

  it("refuses to guess whether a comma is a decimal mark or a thousands separator", () => {
    // Execute
    const quoted = parseCsvText('a,b\n"4,3",1\n"5,1",2\n');
    const mixed = parseCsvText("a;b\n1.234;1\n2,5;2\n");
    const thousands = parseCsvText("a\tb\n1,234\t1\n2,500\t2\n");

    // Assert
    expect(quoted.unreadable.a).toMatch(/^numbers written with a comma \(4,3, 5,1\) in a comma-separated file/);
    expect(mixed.unreadable.a).toBe("numbers written both with a decimal comma and with a point (2,5, 1.234): one of them may be a thousands separator");
    expect(thousands.unreadable.a).toMatch(/^numbers written with a comma and three digits after it \(1,234, 2,500\)/);
    expect(quoted.table.rows[0]).toEqual(["4,3", "1"]);
  });

  it("keeps columns called constructor or __proto__ as columns", () => {
    // Execute
    const csv = parseCsvText("constructor,__proto__\n5 mg,1\n6 mg,2\n");

    // Assert
    expect(csv.table.columns).toEqual(["constructor", "__proto__"]);
    expect(Object.keys(csv.units)).toEqual(["constructor"]);
    expect(csv.units.constructor).toBe("mg");
  });

  it("says 'no rows' for a header-only file and refuses a column named twice", () => {
    // Execute
    const headerOnly = () => parseCsvText("age,chol,outcome\n");
    const twice = () => parseCsvText("age,age\n1,2\n");

    // Assert
    expect(headerOnly).toThrow("the file has a header row (3 columns) but no rows");
    expect(twice).toThrow('the header names column "age" twice');
  });
});
