/**
 * @module
 * The datasets shipped in `datasets/`, as per-site train/test tables with the consortium's
 * feature spec. heart-disease keeps its four real hospitals and FLamby's exact split.
 */
import { fileURLToPath } from "node:url";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { readCsv } from "./read-csv.ts";

export interface SiteData {
  readonly name: string;
  readonly train: Table;
  readonly test: Table;
  /** Per numeric feature, readings the data model refused as out of range, and their mean (FHIR sources). */
  readonly outOfRange?: Readonly<Record<string, { readonly count: number; readonly mean: number }>>;
  /** Per column, the unit its values carried in the file (CSV sources), checked against the consortium's. */
  readonly units?: Readonly<Record<string, string>>;
}

export const datasetsDir = fileURLToPath(new URL("../../datasets/", import.meta.url));

const HEART_COLUMNS = ["age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca", "thal", "num"];
/** The four hospitals, as `[file key, name]`, in the order `loadHeartDisease` returns them. */
export const HEART_CENTERS = [
  ["cleveland", "Cleveland Clinic Foundation"],
  ["hungarian", "Hungarian Institute of Cardiology"],
  ["switzerland", "University Hospitals Zurich and Basel"],
  ["va", "VA Medical Center Long Beach"],
] as const;

/** FLamby's Fed-Heart-Disease inputs: slope, ca and thal dropped; cp and restecg one-hot. */
export const heartDiseaseSpec: FeatureSpec = {
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "sex", column: "sex", type: "numeric", missing: [] },
    { name: "cp", column: "cp", type: "categorical", missing: [] },
    { name: "trestbps", column: "trestbps", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: ["0"] },
    { name: "fbs", column: "fbs", type: "numeric", missing: [] },
    { name: "restecg", column: "restecg", type: "categorical", missing: [] },
    { name: "thalach", column: "thalach", type: "numeric", missing: [] },
    { name: "exang", column: "exang", type: "numeric", missing: [] },
    { name: "oldpeak", column: "oldpeak", type: "numeric", missing: [] },
  ],
  label: { column: "num", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
};

export async function loadHeartDisease(dir = datasetsDir): Promise<SiteData[]> {
  const split = await readCsv(`${dir}heart-disease/flamby-split.csv`);
  const [center, line, set] = ["center", "raw_line_index_0based", "set"].map((c) => split.columns.indexOf(c));
  return Promise.all(
    HEART_CENTERS.map(async ([key, name]) => {
      const raw = await readCsv(`${dir}heart-disease/processed.${key}.data`, { columns: HEART_COLUMNS });
      const pick = (which: string) => ({
        columns: raw.columns,
        rows: split.rows.filter((r) => r[center ?? -1] === key && r[set ?? -1] === which).map((r) => raw.rows[Number(r[line ?? -1])] ?? []),
      });
      return { name, train: pick("train"), test: pick("test") };
    }),
  );
}

export const wdbcSpec = (table: Table): FeatureSpec => ({
  features: table.columns.filter((c) => c !== "diagnosis").map((c) => ({ name: c, column: c, type: "numeric" as const, missing: [] })),
  label: { column: "diagnosis", positive: ["malignant"] },
  missingTokens: ["", "NA", "?"],
});

export const loadWdbc = (dir = datasetsDir): Promise<Table> => readCsv(`${dir}wdbc/wdbc.csv`);

/** The digits set's pixel columns, row by row of the 8×8 image (`p<row><col>`), then the digit. */
export const DIGIT_PIXELS = Array.from({ length: 64 }, (_, i) => `p${Math.floor(i / 8)}${i % 8}`);
export const DIGIT_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** Handwritten digits, 8×8 images of grey levels 0–16: 64 numeric inputs and a 10-class label. */
export const digitsSpec: FeatureSpec = {
  features: DIGIT_PIXELS.map((c) => ({ name: c, column: c, type: "numeric" as const, missing: [] })),
  label: { column: "digit", classes: DIGIT_CLASSES },
  missingTokens: ["", "NA", "?"],
};

export const loadDigits = (dir = datasetsDir): Promise<Table> => readCsv(`${dir}digits/digits.csv.gz`, { columns: [...DIGIT_PIXELS, "digit"] });
