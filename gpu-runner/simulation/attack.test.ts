import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_UPDATE_ABS } from "../../core/schemas/federation.ts";
import { seededRandom } from "../../core/random.ts";
import { alieZ, inverseNormal, parseAttack, poison } from "./attack.ts";

const honest = Float32Array.from([1, -2, 0.5]);

describe("parseAttack", () => {
  it.each([
    ["sign-flip", { kind: "sign-flip" }],
    ["scale:-4", { kind: "scale", factor: -4 }],
    ["gaussian:0.5", { kind: "gaussian", sigma: 0.5 }],
    ["label-flip", { kind: "label-flip" }],
    ["alie", { kind: "alie", z: 1 }],
    ["alie:1.5", { kind: "alie", z: 1.5 }],
    ["ipm", { kind: "ipm", epsilon: 0.5 }],
  ])("reads %s", (text, attack) => {
    expect(parseAttack(text)).toEqual(attack);
  });

  it.each([
    ["krum-breaker", 'unknown attack "krum-breaker" (known: sign-flip, scale:F, gaussian:SIGMA, label-flip, alie[:Z], ipm[:EPSILON])'],
    ["scale", 'attack "scale" needs a numeric argument, got ""'],
    ["gaussian:-1", 'attack "gaussian" needs a positive sigma, got -1'],
    ["sign-flip:2", 'attack "sign-flip" takes no argument'],
  ])("refuses %s", (text, message) => {
    expect(() => parseAttack(text)).toThrow(message);
  });
});

describe("poison", () => {
  it("keeps every value within the coordinator's default bound, so the update is accepted", () => {
    // Prepare
    const big = Float32Array.of(5000, -3000, 1);

    // Execute
    const out = poison({ kind: "scale", factor: -10 }, big, [], seededRandom(1));

    // Assert
    expect(Array.from(out)).toEqual([-Math.fround(1e4 * (1 - 1e-6)), Math.fround(1e4 * (1 - 1e-6)), -10]);
    expect(out.every((x) => Math.abs(x) < DEFAULT_MAX_UPDATE_ABS)).toBe(true);
  });

  it("flips, scales and shrinks the honest update as asked", () => {
    const rng = seededRandom(1);
    expect(Array.from(poison({ kind: "sign-flip" }, honest, [], rng))).toEqual([-1, 2, -0.5]);
    expect(Array.from(poison({ kind: "scale", factor: 10 }, honest, [], rng))).toEqual([10, -20, 5]);
    expect(Array.from(poison({ kind: "ipm", epsilon: 0.5 }, honest, [], rng))).toEqual([-0.5, 1, -0.25]);
    expect(Array.from(poison({ kind: "label-flip" }, honest, [], rng))).toEqual([1, -2, 0.5]);
  });

  it("sends noise of the asked spread, whatever the honest update", () => {
    const big = new Float32Array(20000);
    const noise = poison({ kind: "gaussian", sigma: 2 }, big, [], seededRandom(3));
    const mean = noise.reduce((s, v) => s + v, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / noise.length);
    expect(mean).toBeCloseTo(0, 1);
    expect(sd).toBeCloseTo(2, 1);
  });

  it("sends mean − z·sd of its honest samples for ALIE", () => {
    const samples = [Float32Array.from([3, -2, 0.5]), Float32Array.from([2, -2, 0.5])];
    const out = poison({ kind: "alie", z: 2 }, honest, samples, seededRandom(1));
    // coordinate 0: values 1, 3, 2 → mean 2, sample sd 1 → 2 − 2·1 = 0; the others have sd 0
    expect(Array.from(out)).toEqual([0, -2, 0.5]);
  });
});

describe("ALIE's z", () => {
  it("matches the normal quantile at known points", () => {
    expect(inverseNormal(0.5)).toBeCloseTo(0, 9);
    expect(inverseNormal(0.975)).toBeCloseTo(1.959964, 5);
    expect(inverseNormal(0.025)).toBeCloseTo(-1.959964, 5);
    expect(inverseNormal(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it("follows Baruch et al.'s rule: 50 sites with 12 attackers → s = 14, z = Φ⁻¹(36/50)", () => {
    expect(alieZ(50, 12)).toBeCloseTo(inverseNormal(36 / 50), 9);
  });
});
