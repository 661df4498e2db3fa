import { describe, expect, it } from "vitest";
import { labelOf } from "../../core/preprocess/label.ts";
import { columnIndex } from "../../core/preprocess/table.ts";
import { heartDiseaseSpec, loadHeartDisease, loadWdbc, wdbcSpec } from "./builtin-datasets.ts";

describe("loadHeartDisease", () => {
  it("gives the four hospitals with FLamby's train/test sizes", async () => {
    // Execute
    const sites = await loadHeartDisease();

    // Assert
    expect(sites.map((s) => [s.name, s.train.rows.length, s.test.rows.length])).toEqual([
      ["Cleveland Clinic Foundation", 199, 104],
      ["Hungarian Institute of Cardiology", 172, 89],
      ["University Hospitals Zurich and Basel", 30, 16],
      ["VA Medical Center Long Beach", 85, 45],
    ]);
  });

  it("gives whole rows with a label the spec can read", async () => {
    // Execute
    const sites = await loadHeartDisease();

    // Assert
    for (const s of sites) {
      for (const t of [s.train, s.test]) {
        const col = columnIndex(t, heartDiseaseSpec.label.column);
        expect(t.rows.every((r) => r.length === t.columns.length)).toBe(true);
        expect(t.rows.every((r) => labelOf(r[col] ?? "", heartDiseaseSpec.label, heartDiseaseSpec.missingTokens) !== null)).toBe(true);
      }
    }
  });
});

describe("loadWdbc", () => {
  it("gives the 569 tumours, 212 of them malignant, with 30 numeric features", async () => {
    // Execute
    const table = await loadWdbc();
    const spec = wdbcSpec(table);

    // Assert
    const col = columnIndex(table, "diagnosis");
    expect(table.rows).toHaveLength(569);
    expect(table.rows.filter((r) => labelOf(r[col] ?? "", spec.label, spec.missingTokens) === 1)).toHaveLength(212);
    expect(spec.features).toHaveLength(30);
    expect(spec.features.every((f) => f.type === "numeric")).toBe(true);
  });
});
