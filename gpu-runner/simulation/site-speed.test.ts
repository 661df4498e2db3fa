import { describe, expect, it } from "vitest";
import { extraMs, parseSiteSpeeds } from "./site-speed.ts";

describe("parseSiteSpeeds", () => {
  it("slows one site's compute and leaves the others as they are", () => {
    expect(parseSiteSpeeds("2:10x", 3)).toEqual([{ compute: 1 }, { compute: 10 }, { compute: 1 }]);
  });

  it("sets every site's link with *, and lets a later entry override one site", () => {
    expect(parseSiteSpeeds("*:100mbit:20ms, 3:10x:2mbit", 3)).toEqual([
      { compute: 1, bandwidth: 12_500_000, latencyMs: 20 },
      { compute: 1, bandwidth: 12_500_000, latencyMs: 20 },
      { compute: 10, bandwidth: 250_000, latencyMs: 20 },
    ]);
  });

  it.each([
    ["5:10x", '"5:10x": site "5" is not * or a number from 1 to 3'],
    ["2", '"2": expected SITE:PART[:PART…], e.g. 3:10x or *:2mbit:50ms'],
    ["2:fast", '"2:fast": "fast" is not Nx (compute slowdown), N[k|m|g]bit (bandwidth) or Nms (latency)'],
    ["2:0.5x", '"2:0.5x": a compute slowdown is at least 1x'],
    ["*:0mbit", '"*:0mbit": bandwidth must be positive'],
  ])("refuses %s, naming the part", (spec, message) => {
    expect(() => parseSiteSpeeds(spec, 3)).toThrow(message);
  });
});

describe("extraMs", () => {
  it("adds the slower compute, the transfer at the link's bandwidth and a latency each way", () => {
    // 10x of 40 ms is 360 ms more; 1 MB at 1 MB/s is 1000 ms; 2 × 25 ms.
    expect(extraMs({ compute: 10, bandwidth: 1_000_000, latencyMs: 25 }, 40, 600_000, 400_000)).toBe(360 + 1000 + 50);
    expect(extraMs({ compute: 1 }, 40, 1e6, 1e6)).toBe(0);
  });
});
