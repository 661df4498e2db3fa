import { z } from "zod";

/** Keys no record may hold: a plain object cannot keep `__proto__` as its own key. */
const ALWAYS_REFUSED = ["__proto__"];

/**
 * `z.record(key, value)` that refuses, rather than drops, the keys it cannot keep. Zod skips an
 * own `__proto__` key without an issue (assigning it would replace the result's prototype), so
 * the raw input is checked before the record parses it; `reserved` names more keys to refuse.
 * @example
 * const Counts = ownRecord(z.string(), z.number());
 * Counts.safeParse(JSON.parse('{"__proto__": 1}')).success; // false: '"__proto__" is a reserved key'
 */
export function ownRecord<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, reserved: readonly string[] = []) {
  const refused = new Set([...ALWAYS_REFUSED, ...reserved]);
  const record = z.record(key, value);
  return z
    .custom<z.input<typeof record>>()
    .superRefine((input, ctx) => {
      if (typeof input !== "object" || input === null) return;
      for (const k of Object.keys(input)) if (refused.has(k)) ctx.addIssue({ code: "custom", path: [k], message: `"${k}" is a reserved key` });
    })
    .pipe(record);
}
