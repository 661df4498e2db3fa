/**
 * @module
 * fast-check arbitraries derived from zod schemas, for the fuzz suite: values that often parse
 * (within the schema's bounds, lengths and patterns) and often sit at or past the edges a schema
 * checks (±1e308, 2^53 + 1, −0, empty and very long arrays, long unicode strings, reserved keys).
 */
import fc from "fast-check";
import type { z } from "zod";

/** Numbers at the edges of what JSON carries and what code does arithmetic with. */
export const EXTREME_NUMBERS = [
  0, -0, 1, -1, 0.5, 3, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 1, -(2 ** 53 + 1), 1e15, 1e21, 1e300, 1e308, -1e308,
  Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-308,
];

/** Strings that have broken parsers and lookups elsewhere: empty, reserved keys, control and bidi characters, lone surrogates, long unicode. */
export const EXTREME_STRINGS = [
  "", " ", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "\u0000", "\u202e\u2066", "\ud800", "\udfff",
  "../../sites/x", "%2e%2e%2f", "1e21", "NaN", "-0", "null", "é".repeat(300), "🏥".repeat(4000), "ℌ\u0301".repeat(2000),
];

/** A long unicode string: a short run of graphemes repeated up to about 40,000 code units. */
export const longUnicode = fc
  .tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 8000 }))
  .map(([s, n]) => s.repeat(n));

export interface ArbitraryOptions {
  /** Strings of the domain (codec specs, feature names, levels) tried for strings without a pattern. */
  readonly words?: readonly string[];
}

type Def = { readonly type: string; readonly [k: string]: unknown };
type Check = { readonly check: string; readonly format?: string; readonly value?: unknown; readonly inclusive?: boolean; readonly pattern?: RegExp; readonly minimum?: number; readonly maximum?: number };

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;
const checksOf = (def: Def): Check[] => ((def.checks as { _zod: { def: Check } }[] | undefined) ?? []).map((c) => c._zod.def);

/** An arbitrary for the values of `schema`, valid ones weighted above the extremes. */
export function arbitraryOf(schema: z.ZodType, options: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  return build(schema, options, new Map());
}

function build(schema: unknown, options: ArbitraryOptions, memo: Map<unknown, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const known = memo.get(schema);
  if (known) return known;
  const def = defOf(schema);
  const sub = (s: unknown) => build(s, options, memo);
  let arb: fc.Arbitrary<unknown>;
  switch (def.type) {
    case "object": {
      const shape = def.shape as Record<string, unknown>;
      const required = Object.keys(shape).filter((k) => !["optional", "default"].includes(defOf(shape[k]).type));
      arb = fc.record(Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, sub(s)])), { requiredKeys: required });
      break;
    }
    case "string":
      arb = stringOf(def, options);
      break;
    case "number":
      arb = numberOf(def);
      break;
    case "boolean":
      arb = fc.boolean();
      break;
    case "array":
      arb = arrayOf(def, sub(def.element));
      break;
    case "record": {
      const key = fc.oneof(fc.constantFrom(...(options.words ?? ["a"])), fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "prototype"));
      arb = fc.dictionary(key, sub(def.valueType), { maxKeys: 4, noNullPrototype: true });
      break;
    }
    case "enum":
      arb = fc.constantFrom(...Object.values(def.entries as Record<string, string>));
      break;
    case "literal":
      arb = fc.constantFrom(...(def.values as unknown[]));
      break;
    case "union":
      arb = fc.oneof(...(def.options as unknown[]).map(sub));
      break;
    case "optional":
    case "default":
    case "readonly":
      arb = sub(def.innerType);
      break;
    case "nullable":
      arb = fc.option(sub(def.innerType), { nil: null });
      break;
    case "pipe": {
      // A guard before the real schema (`ownRecord`) or a transform after it: generate what the real one reads.
      const input = defOf(def.in).type;
      arb = sub(input === "custom" || input === "transform" ? def.out : def.in);
      break;
    }
    case "lazy":
      arb = fc.constant(null).chain(() => sub((def.getter as () => unknown)()));
      break;
    default:
      arb = fc.anything({ maxDepth: 2 });
  }
  memo.set(schema, arb);
  return arb;
}

function stringOf(def: Def, options: ArbitraryOptions): fc.Arbitrary<string> {
  const checks = checksOf(def);
  const pattern = checks.find((c) => c.format === "regex")?.pattern;
  const min = (checks.find((c) => c.check === "min_length")?.minimum as number | undefined) ?? 0;
  const max = Math.min((checks.find((c) => c.check === "max_length")?.maximum as number | undefined) ?? 40, 40);
  const valid = pattern ? fc.stringMatching(pattern) : fc.oneof(fc.constantFrom(...(options.words ?? ["a"])), fc.string({ minLength: min, maxLength: Math.max(min, max) }));
  return fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: fc.constantFrom(...EXTREME_STRINGS), weight: 2 }, { arbitrary: longUnicode, weight: 1 });
}

function numberOf(def: Def): fc.Arbitrary<number> {
  const checks = checksOf(def);
  const int = checks.some((c) => c.check === "number_format" && /int/.test(c.format ?? ""));
  let lo = -Number.MAX_VALUE;
  let hi = Number.MAX_VALUE;
  let loOpen = false;
  let hiOpen = false;
  for (const c of checks) {
    if (c.check === "greater_than" && (c.value as number) >= lo) [lo, loOpen] = [c.value as number, !c.inclusive];
    if (c.check === "less_than" && (c.value as number) <= hi) [hi, hiOpen] = [c.value as number, !c.inclusive];
  }
  const inRange = (n: number) => (loOpen ? n > lo : n >= lo) && (hiOpen ? n < hi : n <= hi) && (!int || Number.isSafeInteger(n));
  const edges = [lo, hi, lo + 1, hi - 1, 0, 1, 2, 3, 10, 1000].filter(inRange);
  const valid = int
    ? fc.oneof(fc.constantFrom(...(edges.length ? edges : [0])), fc.integer({ min: Math.max(Math.ceil(lo), -(2 ** 31)), max: Math.max(Math.max(Math.ceil(lo), -(2 ** 31)), Math.min(Math.floor(hi), 2 ** 31 - 1)) }))
    : fc.oneof(fc.constantFrom(...(edges.length ? edges : [0])), fc.double({ min: Math.max(lo, -1e308), max: Math.min(hi, 1e308), minExcluded: loOpen, maxExcluded: hiOpen, noNaN: true, noDefaultInfinity: true }));
  return fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: fc.constantFrom(...EXTREME_NUMBERS), weight: 2 });
}

function arrayOf(def: Def, element: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> {
  const checks = checksOf(def);
  const min = (checks.find((c) => c.check === "min_length")?.minimum as number | undefined) ?? 0;
  const max = (checks.find((c) => c.check === "max_length")?.maximum as number | undefined) ?? Number.POSITIVE_INFINITY;
  // A long array repeats one element: cheap to build, as heavy to parse as any.
  const long = fc.tuple(element, fc.integer({ min: 1000, max: 10_000 })).map(([x, n]) => {
    // At most about 300 KB of JSON at each level, so that nested long arrays stay near the body limit.
    const size = JSON.stringify(x)?.length ?? 4;
    return Array.from({ length: Math.max(1, Math.min(n, Math.floor(300_000 / (size + 1)))) }, () => x);
  });
  return fc.oneof(
    { arbitrary: fc.array(element, { minLength: min, maxLength: Math.max(min, Math.min(max, 4)) }), weight: 6 },
    { arbitrary: fc.constant<unknown[]>([]), weight: 1 },
    { arbitrary: long, weight: 1 },
  );
}
