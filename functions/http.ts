import type { Context } from "hono";
import type { z } from "zod";
import { ConsiliumError } from "../core/errors.ts";

/** Parses a JSON body with its schema; a bad body is a 400 with a stable code, never a 500. */
export async function parseBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ConsiliumError("INVALID_JSON", "request body is not valid JSON", 400);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new ConsiliumError("INVALID_BODY", `invalid request body: ${detail}`, 400);
  }
  return parsed.data;
}

export function intParam(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 0) throw new ConsiliumError("INVALID_PARAM", `${name} must be a non-negative integer`, 400);
  return n;
}
