/**
 * @module
 * Mutations of a JSON value for the fuzz suite, turned into request text: a node replaced (a wrong
 * type, an extreme number) or removed, a reserved key added to an object, or a node replaced by raw
 * text JSON.stringify cannot write (`1e400`, which parses to Infinity; arrays nested 100,000 deep).
 */
import fc from "fast-check";
import { EXTREME_NUMBERS, EXTREME_STRINGS } from "./zod-arbitrary.ts";

export type Mutation =
  | { readonly kind: "replace"; readonly at: number; readonly value: unknown }
  | { readonly kind: "remove"; readonly at: number }
  | { readonly kind: "reserved-key"; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly kind: "raw"; readonly at: number; readonly text: string };

type Path = readonly (string | number)[];

/** A value of some other type than the one a schema expects. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(...EXTREME_NUMBERS),
  fc.constantFrom(...EXTREME_STRINGS),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

/** Raw JSON text no object stringifies to: non-finite numbers and nesting deeper than any stack. */
export const rawText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("1e400", "-1e400", "1e-400", "-0.0", "123456789012345678901234567890", "0.1e999999"),
  fc.integer({ min: 100, max: 100_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 100, max: 30_000 }).map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: wrongType }),
  fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("reserved-key" as const), at: fc.nat(), key: fc.constantFrom("__proto__", "constructor", "prototype"), value: wrongType }),
  fc.record({ kind: fc.constant("raw" as const), at: fc.nat(), text: rawText }),
);

/** Paths of the value's nodes, depth first, the root first; at most `limit`. */
function paths(value: unknown, limit = 2000): Path[] {
  const out: Path[] = [];
  const visit = (v: unknown, path: Path) => {
    if (out.length >= limit) return;
    out.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...path, i]));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, [...path, k]);
  };
  visit(value, []);
  return out;
}

/** A copy of `value` with the node at `path` passed through `change` (undefined removes it), copying only along the path. */
function update(value: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const next = update(copy[head as number], rest, change);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) define(copy, k, k === head ? update(v, rest, change) : v);
  return copy;
}

/** An own, enumerable property even for `__proto__`, as JSON.parse would make it. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The value with the mutations applied in turn, as JSON text. */
export function mutatedText(value: unknown, mutations: readonly Mutation[]): string {
  const raws: string[] = [];
  let v = value;
  for (const m of mutations) {
    const all = paths(v);
    const path = all[m.at % all.length]!;
    if (m.kind === "replace") v = update(v, path, () => m.value);
    else if (m.kind === "remove") v = path.length === 0 ? null : update(v, path, () => undefined);
    else if (m.kind === "raw") v = update(v, path, () => `\u0000RAW${raws.push(m.text) - 1}\u0000`);
    else {
      const objectPath = [...path];
      const isObject = (p: Path) => {
        let node: unknown = v;
        for (const k of p) node = (node as Record<string | number, unknown>)[k];
        return node !== null && typeof node === "object" && !Array.isArray(node);
      };
      while (objectPath.length > 0 && !isObject(objectPath)) objectPath.pop();
      if (!isObject(objectPath)) continue;
      v = update(v, objectPath, (node) => {
        const copy = { ...(node as Record<string, unknown>) };
        define(copy, m.key, m.value);
        return copy;
      });
    }
  }
  return (JSON.stringify(v) ?? "null").replace(/"\\u0000RAW(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!);
}
