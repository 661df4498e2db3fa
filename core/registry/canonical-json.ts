/** Canonical JSON after RFC 8785 (JSON Canonicalization Scheme), for the values a registry hashes. */
import { RegistryError } from "./registry-error.ts";

/**
 * One text per JSON value, so that equal values hash alike: object keys sorted by UTF-16 code
 * units, no whitespace, arrays in order, numbers and strings as `JSON.stringify` writes them
 * (shortest round-trip form; -0 as 0), object fields holding `undefined` left out. For the plain
 * data zod parses this is RFC 8785's form, so `sha256sum` over any JCS tool's output reproduces a
 * hash. Anything without a JSON form throws (NaN, Infinity, bigint, functions, `undefined` in an
 * array, class instances such as Date or Map, cycles) instead of becoming `null`, which would let
 * two different values hash alike.
 *
 * @example
 * canonicalJson({ b: [1, 2], a: "x" }); // '{"a":"x","b":[1,2]}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$", new Set());
}

function write(value: unknown, at: string, open: Set<object>): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw refuse(at, `${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (typeof value !== "object") throw refuse(at, `${value === undefined ? "undefined" : `a ${typeof value}`} has no JSON form`);
  if (open.has(value)) throw refuse(at, "the value refers to itself");
  open.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v, i) => write(v, `${at}[${i}]`, open)).join(",")}]`;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw refuse(at, "only plain objects and arrays have a canonical form");
    const fields = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], `${at}.${k}`, open)}`);
    return `{${fields.join(",")}}`;
  } finally {
    open.delete(value);
  }
}

const refuse = (at: string, why: string) => new RegistryError("NOT_CANONICAL_JSON", `${at}: ${why}`);
