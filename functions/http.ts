import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ConsiliumError } from "../core/errors.ts";
import type { AppEnv } from "./env.ts";

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

/**
 * The route's JSON body, parsed with its schema before the handler runs (`c.req.valid("json")`).
 * Its type is what Hono's RPC client (`hc`) derives a request's body from, so the client sends
 * exactly what the route parses.
 */
export function jsonBody<T extends z.ZodType>(schema: T): MiddlewareHandler<AppEnv, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", (await parseBody(c, schema)) as object);
    await next();
  };
}

/** A path parameter that names a round or a version: digits only, a safe integer (`1e21` and `2^53 + 1` are refused). */
export function intParam(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!value || !/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n)) throw new ConsiliumError("INVALID_PARAM", `${name} must be a non-negative integer`, 400);
  return n;
}

/** A yes/no query parameter: absent is false; anything but `true` or `false` is refused. */
export function boolParam(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new ConsiliumError("INVALID_PARAM", `${name} must be true or false`, 400);
}

/** Refuses a request whose path parameter `name` is not a non-negative integer, before its body is read. */
export function intParamCheck(name: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    intParam(c.req.param(name), name);
    await next();
  };
}
