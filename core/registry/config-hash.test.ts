import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { featureSpec, federationInput, training } from "../../test/support/schemas.ts";
import { FederationConfig } from "../schemas/federation.ts";
import { canonicalJson } from "./canonical-json.ts";
import { configHash } from "./config-hash.ts";

const config = federationInput;

/** The same value with every object's keys in reverse order. */
const reorder = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(reorder)
    : value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorder(v)]))
      : value;

/** Every path to a number in `value`. */
const numberPaths = (value: unknown, at: (string | number)[] = []): (string | number)[][] =>
  typeof value === "number"
    ? [at]
    : value !== null && typeof value === "object"
      ? Object.entries(value).flatMap(([k, v]) => numberPaths(v, [...at, Array.isArray(value) ? Number(k) : k]))
      : [];

const withNumber = (value: unknown, path: (string | number)[], f: (x: number) => number): unknown => {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  path.slice(0, -1).forEach((k) => (node = node[k] as Record<string | number, unknown>));
  const last = path[path.length - 1]!;
  node[last] = f(node[last] as number);
  return copy;
};

describe("configHash", () => {
  it("is the SHA-256 of the canonical JSON of the parsed config, defaults spelled out", () => {
    // Prepare
    const parsed = FederationConfig.parse(config());

    // Execute
    const hash = configHash(config());

    // Assert
    expect(hash).toBe(createHash("sha256").update(canonicalJson(parsed)).digest("hex"));
    expect(configHash({ ...config(), training: { ...training(), lrSchedule: "constant" } })).toBe(hash);
  });

  it("does not change with key order, at any depth", () => {
    // Execute / Assert
    expect(configHash(reorder(config()) as ReturnType<typeof config>)).toBe(configHash(config()));
  });

  it("does not change with the spelling of a codec spec that parses to the same codec", () => {
    // Execute / Assert
    expect(configHash({ ...config(), codec: "randk:.05+int8" })).toBe(configHash({ ...config(), codec: "randk:0.05+int8" }));
  });

  it("changes with every number in the config", () => {
    // Prepare
    const base = configHash(config());
    const paths = numberPaths(config());

    // Execute
    const hashes = paths.map((path) => configHash(withNumber(config(), path, (x) => (x === 0 ? 1 : x < 1 ? x / 2 : x + 1)) as ReturnType<typeof config>));

    // Assert
    expect(paths.length).toBeGreaterThanOrEqual(9);
    expect(hashes.filter((h) => h === base)).toEqual([]);
  });

  it.each([
    ["id", { id: "heart-2026" }],
    ["strategy", { strategy: "fedavg" }],
    ["codec", { codec: "float16" }],
    ["model", { model: { kind: "logreg" as const } }],
    ["a feature's name", { features: { ...featureSpec(), features: [{ ...featureSpec().features[0]!, name: "years" }, featureSpec().features[1]!] } }],
    ["an optional field set", { maxUpdateAbs: 100 }],
  ])("changes with %s", (_, change) => {
    // Execute / Assert
    expect(configHash({ ...config(), ...change })).not.toBe(configHash(config()));
  });
});
