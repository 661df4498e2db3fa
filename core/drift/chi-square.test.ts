import { describe, expect, it } from "vitest";
import { chiSquareQuantile } from "./chi-square.ts";

describe("chiSquareQuantile", () => {
  it("is within 1 % of tabulated quantiles from 3 degrees of freedom at 0.99, 2 % at 0.999", () => {
    // Tables: χ²(10) at 0.99 = 23.209, χ²(3) at 0.99 = 11.345, χ²(9) at 0.95 = 16.919, χ²(3) at 0.999 = 16.266.
    const off = (df: number, z: number, table: number) => Math.abs(chiSquareQuantile(df, z) / table - 1);
    expect(off(10, 2.326348, 23.209)).toBeLessThan(0.01);
    expect(off(3, 2.326348, 11.345)).toBeLessThan(0.01);
    expect(off(9, 1.644854, 16.919)).toBeLessThan(0.01);
    expect(off(3, 3.090232, 16.266)).toBeLessThan(0.02);
  });

  it("errs high at 1 degree of freedom, where the exact quantile is z²", () => {
    const q = chiSquareQuantile(1, 3);
    expect(q).toBeGreaterThan(9);
    expect(q).toBeLessThan(9 * 1.2);
  });
});
