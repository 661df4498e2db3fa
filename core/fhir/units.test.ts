import { describe, expect, it } from "vitest";
import { CHOLESTEROL_MG_DL_PER_MMOL_L, convertUnit, knownConversions, UnitConversion } from "./units.ts";

describe("convertUnit with knownConversions", () => {
  it.each([
    ["cholesterol", 5.17, "mmol/L", "mg/dL", 199.9239],
    ["cholesterol", 200, "mg/dL", "mmol/L", 5.17197],
    ["cholesterol", 5.17, "mmol/l", "mg/dL", 199.9239],
    ["glucose", 5.5, "mmol/L", "mg/dL", 99.088],
    ["glucose", 126, "mg/dL", "mmol/L", 6.99378],
    ["temperature", 98.6, "[degF]", "Cel", 37],
    ["temperature", 212, "°F", "Cel", 100],
    ["temperature", 37, "Cel", "[degF]", 98.6],
    ["temperature", -40, "Cel", "[degF]", -40],
    ["temperature", 0, "K", "Cel", -273.15],
    ["weight", 154, "[lb_av]", "kg", 69.85322],
    ["weight", 70, "kg", "[lb_av]", 154.32358],
    ["weight", 180, "lbs", "kg", 81.64663],
    ["height", 70, "[in_i]", "cm", 177.8],
    ["hba1c", 48, "mmol/mol", "%", 6.54304],
    ["hba1c", 6.5, "%", "mmol/mol", 47.53],
  ] as const)("%s: %d %s is %d %s", (analyte, value, from, target, expected) => {
    // Prepare
    const conversions = knownConversions(analyte as never, target as never);

    // Execute
    const got = convertUnit(value, from, target, conversions);

    // Assert
    expect(got).toBeCloseTo(expected, 2);
  });

  it("passes the feature's own unit through and refuses an undeclared one", () => {
    // Prepare
    const conversions = knownConversions("cholesterol", "mg/dL");

    // Execute and Assert
    expect(convertUnit(180, "mg/dL", "mg/dL", conversions)).toBe(180);
    expect(convertUnit(180, "g/L", "mg/dL", conversions)).toBeUndefined();
    expect(convertUnit(180, "MG/DL", "mg/dL", conversions)).toBeUndefined();
  });

  it("round-trips an affine conversion (°F → °C → °F)", () => {
    // Prepare
    const toC = knownConversions("temperature", "Cel");
    const toF = knownConversions("temperature", "[degF]");

    // Execute
    const back = convertUnit(convertUnit(101.3, "[degF]", "Cel", toC)!, "Cel", "[degF]", toF);

    // Assert
    expect(back).toBeCloseTo(101.3, 10);
  });

  it("uses 38.67 mg/dL per mmol/L for cholesterol", () => {
    expect(knownConversions("cholesterol", "mg/dL").find((c) => c.from === "mmol/L")).toEqual({ from: "mmol/L", factor: CHOLESTEROL_MG_DL_PER_MMOL_L, offset: 0 });
  });
});

describe("UnitConversion", () => {
  it("defaults the offset to 0 and refuses a zero factor", () => {
    expect(UnitConversion.parse({ from: "mmol/L", factor: 38.67 })).toEqual({ from: "mmol/L", factor: 38.67, offset: 0 });
    const bad = UnitConversion.safeParse({ from: "mmol/L", factor: 0 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe("factor must not be 0");
  });
});
