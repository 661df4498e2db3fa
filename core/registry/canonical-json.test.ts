import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth, keeps array order and writes no whitespace", () => {
    // Prepare
    const value = { b: [3, { z: 1, y: null }], a: "x", c: { e: true, d: 1.5 } };

    // Execute
    const text = canonicalJson(value);

    // Assert
    expect(text).toBe('{"a":"x","b":[3,{"y":null,"z":1}],"c":{"d":1.5,"e":true}}');
  });

  it("sorts keys by UTF-16 code units, as RFC 8785 does", () => {
    // Prepare: "é" (U+00E9) sorts after "z", and "B" before "a".
    const value = { é: 1, z: 2, a: 3, B: 4 };

    // Execute / Assert
    expect(canonicalJson(value)).toBe('{"B":4,"a":3,"z":2,"é":1}');
  });

  it("leaves out fields holding undefined and writes -0 as 0", () => {
    // Execute / Assert
    expect(canonicalJson({ a: undefined, b: -0, c: 1e21 })).toBe('{"b":0,"c":1e+21}');
  });

  it.each([
    [{ a: Number.NaN }, "$.a: NaN has no JSON form"],
    [{ a: [1, Infinity] }, "$.a[1]: Infinity has no JSON form"],
    [[undefined], "$[0]: undefined has no JSON form"],
    [{ a: 1n }, "$.a: a bigint has no JSON form"],
    [{ at: new Date(0) }, "$.at: only plain objects and arrays have a canonical form"],
  ])("refuses %o: %s", (value, message) => {
    // Execute / Assert
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it("refuses a value that refers to itself, but not one that repeats a shared value", () => {
    // Prepare
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const shared = { x: 1 };

    // Execute / Assert
    expect(() => canonicalJson(cyclic)).toThrow("$.self: the value refers to itself");
    expect(canonicalJson({ p: shared, q: shared })).toBe('{"p":{"x":1},"q":{"x":1}}');
  });

  it("is the same text whatever the key order, and a fixed point of parsing", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        // Prepare
        const reversed = Object.fromEntries(Object.entries(value).reverse());

        // Execute
        const text = canonicalJson(value);

        // Assert
        expect(canonicalJson(reversed)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});
