import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aurocFromHistogram } from "./auroc.ts";
import { areaUnder, rocCurve } from "./roc.ts";

describe("rocCurve", () => {
  it("runs from (0,0) to (1,1) through each bin's edge", () => {
    expect(rocCurve([0, 1, 1], [1, 1, 0])?.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
    expect(rocCurve([0, 0], [1, 2])).toBeNull();
  });

  it("has the area the histogram's AUROC says, ties counting half", () => {
    const histogram = fc.array(fc.tuple(fc.nat(50), fc.nat(50)), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(histogram, (bins) => {
        const pos = bins.map((b) => b[0]);
        const neg = bins.map((b) => b[1]);
        const curve = rocCurve(pos, neg);
        const auroc = aurocFromHistogram(pos, neg);
        if (curve === null) return auroc === null;
        for (let i = 1; i < curve.length; i++) if (curve[i]!.fpr < curve[i - 1]!.fpr || curve[i]!.tpr < curve[i - 1]!.tpr) return false;
        return Math.abs(areaUnder(curve) - auroc!) < 1e-12;
      }),
    );
  });
});
