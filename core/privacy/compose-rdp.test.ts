import { describe, expect, it } from "vitest";
import { composeRdp } from "./compose-rdp.ts";
import { DEFAULT_ORDERS } from "./rdp-orders.ts";
import { sampledGaussianRdp } from "./sampled-gaussian-rdp.ts";

describe("composeRdp", () => {
  it("adds the RDP of every step of every entry, order by order", () => {
    // Prepare
    const a = { q: 0.01, sigma: 1.1, steps: 700 };
    const b = { q: 0.05, sigma: 2, steps: 30 };

    // Execute
    const both = composeRdp([a, b]);

    // Assert
    expect(both).toHaveLength(DEFAULT_ORDERS.length);
    for (const [i, order] of DEFAULT_ORDERS.entries()) {
      const sum = 700 * sampledGaussianRdp(0.01, 1.1, order) + 30 * sampledGaussianRdp(0.05, 2, order);
      expect(both[i]! / sum).toBeCloseTo(1, 12);
    }
  });

  it("gives the same ledger total however the steps are split", () => {
    // Prepare
    const orders = [2, 5, 17, 64];

    // Execute
    const whole = composeRdp([{ q: 0.004, sigma: 1, steps: 10_000 }], orders);
    const split = composeRdp([{ q: 0.004, sigma: 1, steps: 6_000 }, { q: 0.004, sigma: 1, steps: 4_000 }], orders);

    // Assert
    for (let i = 0; i < orders.length; i++) expect(split[i]! / whole[i]!).toBeCloseTo(1, 12);
  });

  it("is zero for an empty ledger, zero steps or q = 0", () => {
    // Execute
    const rdp = composeRdp([{ q: 0.1, sigma: 1, steps: 0 }, { q: 0, sigma: 1, steps: 50 }], [2, 8]);

    // Assert
    expect(Array.from(composeRdp([], [2, 8]))).toEqual([0, 0]);
    expect(Array.from(rdp)).toEqual([0, 0]);
  });

  it.each([
    [[{ q: 0.1, sigma: 1, steps: 2.5 }], [2], "steps must be a non-negative integer, got 2.5"],
    [[{ q: 0.1, sigma: 1, steps: -1 }], [2], "steps must be a non-negative integer, got -1"],
    [[{ q: 2, sigma: 1, steps: 1 }], [2], "sampling rate q must be in [0, 1], got 2"],
    [[], [], "at least one RDP order is needed"],
    [[], [2, 1.5], "RDP orders must be integers from 2 to 10000, got 1.5"],
  ])("rejects %j at orders %j", (entries, orders, message) => {
    // Execute
    const call = () => composeRdp(entries, orders);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
