import { describe, expect, it } from "vitest";
import { parseRegions } from "./regions.ts";

describe("parseRegions", () => {
  it("reads names with site numbers and ranges, as 0-based indices", () => {
    expect(parseRegions("eu:1-2; us:3,5 ;sg:4,6", 6)).toEqual([
      { name: "eu", sites: [0, 1] },
      { name: "us", sites: [2, 4] },
      { name: "sg", sites: [3, 5] },
    ]);
  });

  it.each([
    ["EU:1-2;us:3-4", '"EU:1-2": expected NAME:SITES, a lower-case name and site numbers such as eu:1-3 or us:4,6'],
    ["eu:1-2;eu:3-4", 'region "eu" is named twice'],
    ["eu:1-x;us:3-4", '"eu:1-x": "1-x" is not a site number or a range such as 1-3'],
    ["eu:1-5", '"eu:1-5": sites run from 1 to 4, not 1-5'],
    ["eu:1-3;us:3-4", "site 3 is in both eu and us"],
    ["eu:1-2;us:3", '"us:3": a region needs at least two sites'],
    ["eu:1-2", "every site needs a region; none for 3, 4"],
  ])("refuses %s, saying why", (spec, message) => {
    expect(() => parseRegions(spec, 4)).toThrow(message);
  });
});
