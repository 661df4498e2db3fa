/**
 * Writes examples/consortium/: three hospitals of the UCI Heart Disease data (datasets/heart-disease,
 * see its SOURCE.txt) as each might export them, with their own column names, delimiters, decimal
 * marks and units, plus the consortium's data dictionary and each site's column mapping. Run with
 * `npx tsx scripts/example-consortium.ts`; the files it writes are committed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { readCsv } from "../gpu-runner/data/read-csv.ts";

const COLUMNS = ["age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca", "thal", "num"];
const out = new URL("../examples/consortium/", import.meta.url);
const source = new URL("../datasets/heart-disease/", import.meta.url);

/** "63.0" → "63": the exports write whole numbers without a decimal part. */
const tidy = (v: string) => (v === "?" ? "" : String(Number(v)));

interface Export {
  readonly file: string;
  readonly key: string;
  readonly delimiter: string;
  /** The hospital's name for each consortium column (same order as COLUMNS). */
  readonly names: readonly string[];
  readonly cell: (column: string, value: string) => string;
  readonly gzip?: boolean;
}

const exports: Export[] = [
  // The consortium's own names, comma-separated, plain numbers: the lead hospital.
  { file: "cleveland.csv", key: "cleveland", delimiter: ",", names: COLUMNS, cell: (_c, v) => tidy(v) },
  // Semicolons, decimal commas, cholesterol with its unit, its own names.
  {
    file: "hungarian.csv",
    key: "hungarian",
    delimiter: ";",
    names: ["age", "sex", "chest_pain", "resting_bp", "cholesterol", "fasting_bs", "rest_ecg", "max_hr", "exercise_angina", "st_depression", "st_slope", "vessels", "thal", "diagnosis"],
    cell: (c, v) => {
      const t = tidy(v);
      if (t === "") return "NA";
      if (c === "chol") return `${t} mg/dL`;
      return c === "oldpeak" ? t.replace(".", ",") : t;
    },
  },
  // Tab-separated, gzip-compressed, another naming convention.
  {
    file: "va.tsv.gz",
    key: "va",
    delimiter: "\t",
    names: ["Age", "Sex", "ChestPainType", "RestingBP", "Cholesterol", "FastingBS", "RestingECG", "MaxHR", "ExerciseAngina", "Oldpeak", "ST_Slope", "CA", "Thal", "HeartDisease"],
    cell: (_c, v) => tidy(v),
    gzip: true,
  },
];

const dictionary = [
  "column,type,unit,min,max,levels,missing,impute,positive,description",
  "age,numeric,years,18,100,,,,,age at the visit",
  "sex,numeric,,0,1,,,,,1 = male, 0 = female",
  "cp,categorical,,,,1|2|3|4,,,,chest pain type",
  "trestbps,numeric,mm Hg,60,240,,,,,resting blood pressure",
  "chol,numeric,mg/dL,80,700,,0,median,,serum cholesterol (0 means not measured)",
  "fbs,numeric,,0,1,,,,,fasting blood sugar above 120 mg/dL",
  "restecg,categorical,,,,0|1|2,,,,resting electrocardiogram",
  "thalach,numeric,bpm,50,230,,,,,maximum heart rate reached",
  "exang,numeric,,0,1,,,,,exercise-induced angina",
  "oldpeak,numeric,mm,-3,7,,,,,ST depression induced by exercise",
  "slope,ignore,,,,,,,,mostly missing outside Cleveland",
  "ca,ignore,,,,,,,,mostly missing outside Cleveland",
  "thal,ignore,,,,,,,,mostly missing outside Cleveland",
  "num,label,,,,,,,>0,angiographic disease: 0 none, 1-4 vessels narrowed",
];

await mkdir(out, { recursive: true });
// The description, the tenth field, may hold commas: quote it.
const quoted = dictionary.map((line, i) => {
  const fields = line.split(",");
  const description = fields.slice(9).join(",");
  return [...fields.slice(0, 9), i === 0 ? description : `"${description}"`].join(",");
});
await writeFile(new URL("dictionary.csv", out), `${quoted.join("\n")}\n`);
for (const e of exports) {
  const table = await readCsv(new URL(`processed.${e.key}.data`, source).pathname, { columns: COLUMNS });
  const lines = [e.names.join(e.delimiter), ...table.rows.map((r) => r.map((v, j) => e.cell(COLUMNS[j] ?? "", v)).join(e.delimiter))];
  const text = `${lines.join("\n")}\n`;
  await writeFile(new URL(e.file, out), e.gzip ? gzipSync(text) : text);
  if (e.names !== COLUMNS) {
    const pairs = e.names.flatMap((n, j) => (n === COLUMNS[j] ? [] : [`${n},${COLUMNS[j]}`]));
    await writeFile(new URL(`${e.key}-map.csv`, out), `local,consortium\n${pairs.join("\n")}\n`);
  }
}
