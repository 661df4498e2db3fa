import { describe, expect, it } from "vitest";
import { PALETTE, secureLine, siteSeries } from "./views.tsx";

describe("the dashboard's views", () => {
  it("says how many sites each secure phase accepted and how long it took, from the session's start", () => {
    const secure = { participants: 6, neighbours: 4, threshold: 3, advertised: 6, shared: 6, masked: 5, unmasked: 5, startedAt: 1_000, closedAt: { advertise: 3_500, shareKeys: 4_000, maskedInput: 10_000, unmasking: 10_250 } };
    expect(secureLine(secure)).toBe("secure: 6 advertised (2.5 s), 6 shared (0.5 s), 5 masked (6.0 s), 5 unmasked (0.3 s)");
    // A record from before phase times, and a round that failed after two phases.
    expect(secureLine({ ...secure, startedAt: undefined, closedAt: undefined })).toBe("secure: 6 advertised, 6 shared, 5 masked, 5 unmasked");
    expect(secureLine({ ...secure, masked: 0, unmasked: 0, closedAt: { advertise: 2_000, shareKeys: 2_100 } })).toBe("secure: 6 advertised (1.0 s), 6 shared (0.1 s), 0 masked, 0 unmasked");
  });

  it("draws one curve per site while the palette tells them apart, and the sites' spread beyond", () => {
    const few = Array.from({ length: PALETTE.length }, (_, i) => ({ label: `site ${i}`, values: [i, null] }));
    expect(siteSeries(few, 2).map((s) => s.label)).toEqual(few.map((s) => s.label));
    // Eleven sites: values 0..10 at x = 0, one site missing at x = 1.
    const many = Array.from({ length: 11 }, (_, i) => ({ label: `site ${i}`, values: [i, i === 0 ? null : 2 * i] }));
    const spread = siteSeries(many, 2);
    expect(spread.map((s) => s.label)).toEqual(["90th percentile of 11 sites", "median site", "10th percentile"]);
    expect(spread.map((s) => s.values[0])).toEqual([9, 5, 1]);
    // x = 1: 2, 4, …, 20 (ten values): the median between the 5th and 6th, 11; the 10th percentile 2 + 0.9 × 2.
    expect(spread[1]!.values[1]).toBe(11);
    expect(spread[2]!.values[1]).toBeCloseTo(3.8, 12);
  });
});
