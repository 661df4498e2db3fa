import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv, readCsv } from "./read-csv.ts";

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
    expect(parse).toThrow("Invalid Record Length: expect 3, got 2 on line 4");
  });

  it("names the row whose width does not match the given column names", () => {
    // Execute
    const parse = () => parseCsv("1,2,3\n4,5,6\n", { columns: ["a", "b"] });

    // Assert
    expect(parse).toThrow("CSV row 1 has 3 fields, expected 2");
  });

  it("refuses text without columns", () => {
    // Execute
    const parse = () => parseCsv("\n\n");

    // Assert
    expect(parse).toThrow("CSV has no columns");
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
    await expect(read).rejects.toThrow(`${file}: Invalid Record Length: expect 2, got 1 on line 3`);
  });
});
